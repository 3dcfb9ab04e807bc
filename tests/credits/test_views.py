import uuid
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
import stripe
from django.urls import reverse
from django.utils import timezone

from studio.credits import purchases, services
from studio.credits.models import CreditPurchase
from studio.credits.selectors import credit_balance
from tests.credits.factories import PurchaseFactory

pytestmark = pytest.mark.django_db


def test_header_shows_the_balance_with_an_id_for_oob_swaps(user_client, user, give_credits):
    give_credits(user, 12)

    html = user_client.get(reverse("avatars:list")).content.decode()

    assert 'id="credit-balance"' in html
    assert '<span class="credit-balance-amount">12</span> <span class="credit-balance-unit">credits</span>' in html
    assert f'href="{reverse("credits:history")}"' in html
    assert "hx-swap-oob" not in html


def test_header_balance_says_one_credit(user_client, user, give_credits):
    give_credits(user, 1)
    html = user_client.get("/").content.decode()
    assert '<span class="credit-balance-amount">1</span> <span class="credit-balance-unit">credit</span></a>' in html


def test_header_has_no_balance_for_visitors(client):
    assert b"credit-balance" not in client.get("/").content


def test_balance_partial_renders_an_oob_swap_for_other_apps(rf, user, give_credits):
    from django.template.loader import render_to_string

    give_credits(user, 7)
    request = rf.get("/")
    request.user = user

    html = render_to_string("credits/_balance.html", {"oob": True}, request=request)

    assert 'id="credit-balance"' in html and 'hx-swap-oob="true"' in html
    assert '>7</span> <span class="credit-balance-unit">credits</span>' in html


@pytest.mark.parametrize(
    "name", ["credits:history", "credits:buy"]
)
def test_credit_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_buy_page_lists_the_packs_with_prices_and_says_it_is_a_test(user_client, stripe_off):
    html = user_client.get(reverse("credits:buy")).content.decode()

    for text in ("20</strong> credits", "$6.00", "50</strong> credits", "$12.00", "120</strong> credits", "$24.00"):
        assert text in html
    assert "Most popular" in html
    # The one price story: the sign-up gift's avatar (6 styles = 8 credits) is the unit packs are told in.
    assert "an avatar with 6 styles = 8 credits" in " ".join(html.split())
    assert "Enough for 6 avatars with 6 styles" in html  # 50 credits at 8 an avatar
    assert "14 styles" not in html
    assert "Test mode" in html
    assert 'name="pack" value="plus"' in html


def test_buy_page_with_stripe_has_no_test_notice(user_client, stripe_on):
    assert b"Test mode" not in user_client.get(reverse("credits:buy")).content


def test_buying_without_stripe_goes_to_the_test_checkout(user_client, user, stripe_off):
    response = user_client.post(reverse("credits:buy"), {"pack": "starter"})

    purchase = CreditPurchase.objects.get(user=user)
    assert response.status_code == 302
    assert response.url == reverse("credits:checkout", args=[purchase.pk])


def test_buying_with_htmx_redirects_the_browser(user_client, stripe_off):
    response = user_client.post(reverse("credits:buy"), {"pack": "starter"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/credits/checkout/")


def test_buying_with_stripe_redirects_to_stripe_checkout(user_client, user, stripe_on):
    session = SimpleNamespace(id="cs_test_1", url="https://checkout.stripe.com/c/pay/cs_test_1")
    with mock.patch.object(purchases, "_stripe_client") as client:
        client.return_value.v1.checkout.sessions.create.return_value = session
        response = user_client.post(reverse("credits:buy"), {"pack": "studio"})

    assert response.status_code == 302 and response.url == session.url


def test_buying_when_stripe_is_down_says_so_on_the_page(user_client, user, stripe_on):
    with mock.patch.object(purchases, "_stripe_client") as client:
        client.return_value.v1.checkout.sessions.create.side_effect = stripe.APIConnectionError("down")
        response = user_client.post(reverse("credits:buy"), {"pack": "studio"})

    assert response.status_code == 503
    assert "Nothing was charged" in response.content.decode()
    assert credit_balance(user=user) == 0


def test_buying_an_unknown_pack_is_refused_on_the_page(user_client, user):
    response = user_client.post(reverse("credits:buy"), {"pack": "free-for-all"})

    assert response.status_code == 422
    assert "not on sale" in response.content.decode()
    assert not CreditPurchase.objects.exists()


def test_a_pack_withdrawn_while_buying_is_refused_as_bad_input_not_as_an_outage(user_client, user, stripe_on):
    with mock.patch.object(purchases, "credit_pack_get", return_value=None):
        response = user_client.post(reverse("credits:buy"), {"pack": "studio"})

    assert response.status_code == 422
    assert "not on sale" in response.content.decode()
    assert not CreditPurchase.objects.exists()


def test_test_checkout_says_it_is_a_test_and_pay_grants_the_pack(user_client, user, stripe_off):
    checkout_url = user_client.post(reverse("credits:buy"), {"pack": "plus"}).url

    page = user_client.get(checkout_url).content.decode()
    assert "This is a test checkout" in page and "Pay (test)" in page and "$12.00" in page

    response = user_client.post(checkout_url, follow=True)

    purchase = CreditPurchase.objects.get(user=user)
    assert response.redirect_chain[-1][0] == reverse("credits:purchase", args=[purchase.pk])
    html = response.content.decode()
    assert "50 credits added" in html
    assert '<span class="credit-balance-amount">50</span> <span class="credit-balance-unit">credits</span>' in html
    assert html.count('id="credit-balance"') == 1 and "hx-swap-oob" not in html
    assert purchase.status == "paid" and credit_balance(user=user) == 50

    user_client.post(checkout_url)  # pressing "Pay (test)" again, or going back and resubmitting
    assert credit_balance(user=user) == 50


def test_test_checkout_is_gone_once_stripe_is_configured(user_client, user, settings, stripe_off):
    checkout_url = user_client.post(reverse("credits:buy"), {"pack": "plus"}).url
    settings.STRIPE_SECRET_KEY = "sk_live_x"

    assert user_client.get(checkout_url).status_code == 404
    assert user_client.post(checkout_url).status_code == 404
    assert credit_balance(user=user) == 0


def test_a_stripe_purchase_cannot_be_paid_with_the_test_checkout(user_client, user, stripe_off):
    purchase = PurchaseFactory(user=user)

    assert user_client.post(reverse("credits:checkout", args=[purchase.pk])).status_code == 404
    assert credit_balance(user=user) == 0


@pytest.mark.parametrize("name", ["credits:checkout", "credits:purchase", "credits:purchase_cancelled"])
def test_another_users_purchase_is_not_found(user_client, other_user, name, stripe_off):
    purchase = PurchaseFactory(user=other_user, provider=CreditPurchase.Provider.TEST)

    assert user_client.get(reverse(name, args=[purchase.pk])).status_code == 404
    assert user_client.get(reverse(name, args=[uuid.uuid4()])).status_code == 404
    if name == "credits:checkout":
        assert user_client.post(reverse(name, args=[purchase.pk])).status_code == 404
        assert credit_balance(user=other_user) == 0


def test_purchase_page_waits_for_stripe_and_polls(user_client, user):
    purchase = PurchaseFactory(user=user)

    html = user_client.get(reverse("credits:purchase", args=[purchase.pk])).content.decode()

    assert "Confirming your payment" in html
    assert 'hx-trigger="every 2s' in html and 'role="status"' in html
    assert '<noscript><meta http-equiv="refresh" content="4">' in html
    assert "taking longer" not in html


def test_a_payment_slow_to_confirm_is_explained_and_polled_once_a_minute(user_client, user):
    purchase = PurchaseFactory(user=user)
    CreditPurchase.objects.filter(pk=purchase.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    url = reverse("credits:purchase", args=[purchase.pk])

    html = user_client.get(url).content.decode()
    assert "taking longer than usual" in html and "bank debits" in html
    assert 'hx-trigger="every 60s' in html and 'content="60"' in html

    fragment = user_client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and b'hx-trigger="every 60s' in fragment.content


def test_purchase_status_poll_continues_while_pending_and_stops_with_the_new_balance(user_client, user):
    purchase = PurchaseFactory(user=user)
    url = reverse("credits:purchase", args=[purchase.pk])

    waiting = user_client.get(url, headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and b"hx-trigger" in waiting.content
    assert b"<html" not in waiting.content

    purchases.purchase_complete(purchase_id=purchase.pk, event_id="evt_1")
    done = user_client.get(url, headers={"HX-Request": "true"})

    html = done.content.decode()
    assert done.status_code == 286
    assert "hx-trigger" not in html and "50 credits added" in html
    oob = html[html.index('<a id="credit-balance"') :]
    assert 'hx-swap-oob="true"' in oob.split(">", 1)[0]
    assert '>50</span> <span class="credit-balance-unit">credits</span>' in oob


def test_a_payment_refused_while_the_page_polls_says_it_is_under_review_and_stops(user_client, user):
    purchase = PurchaseFactory(user=user)
    url = reverse("credits:purchase", args=[purchase.pk])

    purchases.purchase_refuse(purchase_id=purchase.pk, reason="it was paid in 'eur', not 'usd'")
    response = user_client.get(url, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 286 and "hx-trigger" not in html
    assert "Your payment is being reviewed" in html and "its credits have not been added yet" in html
    assert "eur" not in html  # the reason is for staff
    assert reverse("support:contact") in html
    history = user_client.get(reverse("credits:history")).content.decode()
    assert '<span class="status status-refused">Paid, under review</span>' in history


def test_expired_purchase_page_says_nothing_was_charged(user_client, user):
    purchase = PurchaseFactory(user=user, status=CreditPurchase.Status.EXPIRED)
    html = user_client.get(reverse("credits:purchase", args=[purchase.pk])).content.decode()
    assert "expired" in html and "Nothing was charged" in html and "hx-trigger" not in html


def test_cancelled_page_says_nothing_was_charged(user_client, user):
    purchase = PurchaseFactory(user=user)
    html = user_client.get(reverse("credits:purchase_cancelled", args=[purchase.pk])).content.decode()
    assert "Payment cancelled" in html and "Nothing was charged" in html
    assert reverse("credits:buy") in html
    # The history calls it what the customer did.
    assert CreditPurchase.objects.get(pk=purchase.pk).get_status_display() == "Cancelled"
    assert "Cancelled" in user_client.get(reverse("credits:history")).content.decode()


def test_a_cancelled_checkout_paid_later_still_grants_its_credits(user, stripe_off):
    purchase = PurchaseFactory(user=user, provider=CreditPurchase.Provider.TEST)
    assert purchases.purchase_cancel(user=user, purchase_id=purchase.pk)

    purchases.purchase_pay_test(user=user, purchase_id=purchase.pk)

    assert CreditPurchase.objects.get(pk=purchase.pk).is_paid and credit_balance(user=user) == purchase.credits


def test_buying_returns_to_where_the_customer_was(user_client, user, stripe_off):
    where = "/avatars/00000000-0000-0000-0000-000000000001/more/?themes=film-noir"
    page = user_client.get(reverse("credits:buy"), {"next": where}).content.decode()
    assert f'name="next" value="{where.replace("&", "&amp;")}"' in page

    response = user_client.post(reverse("credits:buy"), {"pack": "starter", "next": where}, follow=True)
    user_client.post(response.redirect_chain[-1][0])  # pay on the test checkout
    purchase = CreditPurchase.objects.get(user=user)
    paid = user_client.get(reverse("credits:purchase", args=[purchase.pk])).content.decode()

    assert "Continue where you left off" in paid and f'href="{where}"' in paid


@pytest.mark.parametrize("where", ["https://evil.example/", "//evil.example/path", "javascript:alert(1)"])
def test_buying_never_returns_to_another_site(user_client, user, stripe_off, where):
    user_client.post(reverse("credits:buy"), {"pack": "starter", "next": where})
    purchase = CreditPurchase.objects.get(user=user)

    paid = user_client.get(reverse("credits:purchase_cancelled", args=[purchase.pk])).content.decode()

    assert "Continue where you left off" not in paid and "evil" not in paid and "javascript" not in paid


def test_history_shows_balance_purchases_and_entries_in_plain_words(user_client, user, give_credits):
    services.credit_signup_grant(user=user)
    purchase = PurchaseFactory(user=user)
    purchases.purchase_complete(purchase_id=purchase.pk, event_id="evt_1")
    services.credit_spend(user=user, amount=16, key="spend:avatar:1", reason="Avatar “Ada”: training and 14 styles")
    services.credit_refund(user=user, amount=2, key="refund:avatar:1", reason="2 styles of “Ada” failed: refunded")
    PurchaseFactory(user=user)  # abandoned

    html = user_client.get(reverse("credits:history")).content.decode()

    assert '<p class="balance-figure"><strong>44</strong> credits</p>' in html
    assert "50 credits · Plus pack" in html and "$12.00" in html and "Paid" in html and "Not completed" in html
    for text in ("Welcome credits", "Bought 50 credits (Plus pack)", "Avatar “Ada”", "refunded"):
        assert text in html
    assert "+8" in html and "+50" in html and "\u221216" in html and "+2" in html
    assert "balance 44" in html


def test_history_pages_through_entries_with_htmx(user_client, user, give_credits):
    for _ in range(30):
        give_credits(user, 1)

    first = user_client.get(reverse("credits:history")).content.decode()
    assert "Page 1 of 2" in first and 'hx-get="?page=2"' in first

    fragment = user_client.get(reverse("credits:history") + "?page=2", headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert html.strip().startswith('<div id="credit-entries">')
    assert html.count('class="ledger-row"') == 5 and "Page 2 of 2" in html


def test_empty_history_says_what_will_appear(user_client):
    html = user_client.get(reverse("credits:history")).content.decode()
    assert "No purchases yet" in html and "Nothing yet" in html


def test_credit_pages_have_no_inline_code(user_client, user, stripe_off):
    purchase = PurchaseFactory(user=user, provider=CreditPurchase.Provider.TEST)
    for url in (
        reverse("credits:buy"),
        reverse("credits:history"),
        reverse("credits:checkout", args=[purchase.pk]),
        reverse("credits:purchase", args=[purchase.pk]),
        reverse("credits:purchase_cancelled", args=[purchase.pk]),
    ):
        html = user_client.get(url).content.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html and "hx-on" not in html

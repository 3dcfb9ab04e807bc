import itertools
import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from studio.avatars.models import AvatarState, PromptState
from studio.credits.models import CreditPurchase
from tests import helpers
from tests.dashboard.factories import avatar, ledger, paid, prompts, refused, reversed_at_stripe
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("dashboard:index")
HTMX = {**helpers.HTMX, "HX-Target": "dashboard-body"}
# Session, user and header balance; the rolled-up days and their figures, then what they leave out
# live, one query per source: ledger, purchases, refunds, avatars (3), tunes (2), prompts (2), scored
# images, judged styles, edits, organisations and members; pending (2), failures (2), refused
# payments, refunded or disputed ones, the last ledger check and its wallets.
MAX_QUERIES = 28


def text(html: str) -> str:
    """The page's words, tags removed and spaces collapsed, to find figures as people read them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def waited(avatar) -> str:
    return text(timesince(avatar.queued_at))


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={URL}"


def test_people_who_are_not_staff_are_refused(client, user):
    client.force_login(user)

    assert client.get(URL).status_code == 403
    assert client.get(URL, headers=HTMX).status_code == 403


def test_only_staff_see_the_dashboard_in_the_account_menu(client, user, staff):
    client.force_login(user)
    assert URL not in client.get(reverse("avatars:list")).content.decode()

    client.force_login(staff)
    menu = client.get(reverse("avatars:list")).content.decode()
    assert f'<a href="{URL}">Dashboard</a>' in menu


def test_the_dashboard_is_read_only(staff_client):
    assert staff_client.post(URL, {"days": 7}).status_code == 405


def test_the_page_shows_the_figures_of_the_last_30_days(staff_client, shop):
    response = staff_client.get(URL)

    page = text(response.content.decode())
    assert response.status_code == 200
    assert "Last 30 days" in page and "(days in UTC)" in page
    assert "Revenue $18.00 2 paid purchases · $6.00 refunded Credits sold" in page
    assert "Credits sold 70 26 spent · 3 refunded · 8 granted" in page
    assert "Avatars done 1 4 paid · 1 failed (50%)" in page  # the stuck one was paid 10 days ago
    assert "Astria spend $4.60 3 tunes · 16 prompts" in page
    assert f"Pending jobs 2 oldest waiting {waited(shop.queued)}" in page
    assert "Wallets vs ledger 1 off" in page
    assert "Prompts per fine-tune 5.3 of 14" in page and "Images per fine-tune 42.7 of 112" in page
    assert "sd15 2 \u00d7 $1.50 16 \u00d7 $0.10 $4.60" in page


def test_pending_failed_and_unbalanced_records_link_to_their_admin_pages(staff_client, shop):
    html = staff_client.get(URL).content.decode()

    for avatar_ in (shop.queued, shop.training, shop.failed):
        assert reverse("admin:avatars_avatar_change", args=[avatar_.pk]) in html
    assert reverse("admin:credits_wallet_change", args=[shop.carol.wallet.pk]) in html
    page = text(html)
    assert "Training failed at Astria" in page and "Refused by the safety filter" in page
    assert "carol@example.test 5 0 +5" in page
    assert f"Stuck Queued {waited(shop.queued)} overdue 0 / 0 never alice@example.test none yet" in page


def test_payments_refused_in_the_period_are_listed_with_the_reason_and_the_way_to_grant_them(staff_client, shop):
    html = staff_client.get(URL).content.decode()

    page = unescape(text(html))
    assert "Payments refused in the period" in page
    assert "Plus 50 credits, $12.00 it was paid in 'eur', not 'usd' carol@example.test" in page
    assert "not the pack's price" not in page  # refused 40 days ago
    refused_one = shop.carol.credit_purchases.get(status="refused")
    assert reverse("admin:credits_creditpurchase_change", args=[refused_one.pk]) in html
    assert reverse("admin:credits_creditpurchase_changelist") + "?status__exact=refused" in html

    page = unescape(text(staff_client.get(URL, {"days": 90}).content.decode()))
    assert "its items cost $0.01, not the pack's price $12.00 bob@example.test" in page


def test_payments_refunded_or_disputed_at_stripe_are_listed_with_what_the_buyer_has_left(staff_client, shop):
    html = staff_client.get(URL).content.decode()

    page = text(html)
    assert "Refunds and disputes at Stripe in the period" in page
    assert ("Plus 50 credits, $12.00 $6.00 refunded · dispute needs a response 0 of 25 credits taken back "
            "alice@example.test 45 Open wallet of alice@example.test") in page
    assert reverse("admin:credits_wallet_change", args=[shop.alice.wallet.pk]) in html
    assert reverse("admin:credits_creditpurchase_changelist") + "?reversed=yes" in html


def test_past_twenty_refused_payments_the_latest_twenty_are_listed_and_it_says_so(staff_client):
    buyer, today = UserFactory(), timezone.localdate()
    for days_ago in range(21):
        refused(buyer, today, f"refused {days_ago} days ago", days_ago)

    page = text(staff_client.get(URL).content.decode())

    assert "The latest 20 are shown." in page
    assert "refused 19 days ago" in page and "refused 20 days ago" not in page


def test_a_refused_payment_refunded_at_stripe_is_no_longer_waiting_for_staff(staff_client, shop):
    CreditPurchase.objects.filter(user=shop.carol, status="refused").update(refunded_amount=1200)

    page = text(staff_client.get(URL).content.decode())

    assert "Every payment Stripe took in these days paid for its pack." in page


def test_every_chart_has_a_title_a_description_and_its_numbers_in_a_table(staff_client, shop):
    html = staff_client.get(URL, {"days": 7}).content.decode()

    charts = re.findall(r'<svg class="chart-svg"[^>]*aria-labelledby="([^"]+)"', html)
    assert len(charts) == 3  # revenue, credits, avatars
    for labels in charts:
        title, desc = labels.split()
        assert f'<title id="{title}">' in html and f'<desc id="{desc}">' in html
    assert html.count('<details class="chart-data">') == 3
    page = text(html)
    assert "Totals from" in page and "sold 70, granted 0, spent 26, refunded 3" in page
    assert "Total $18.00" in page


def test_no_inline_styles_or_scripts(staff_client, shop):
    html = staff_client.get(URL).content.decode()

    assert "style=" not in html and "<style" not in html
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))


def test_the_period_filter_is_a_plain_get_form(staff_client, shop):
    response = staff_client.get(URL, {"days": 7})

    html = response.content.decode()
    assert 'method="get"' in html and f'action="{URL}"' in html
    assert re.search(r'<input[^>]*value="7"[^>]*checked', html)
    assert "Last 7 days" in text(html) and "<html" in html
    assert "Revenue $18.00" in text(html)


def test_htmx_gets_only_the_dashboard_body(staff_client, shop):
    response = staff_client.get(URL, {"days": 90}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="dashboard-body"')
    assert "<html" not in html and "period-filter" not in html
    assert "Last 90 days" in text(html) and "Revenue $42.00 3 paid purchases · $18.00 refunded" in text(html)
    status = re.search(r'<p id="dashboard-status"[^>]*hx-swap-oob="true">([^<]*)</p>', html)
    assert status.group(1) == "Showing the last 90 days."  # read out by screen readers


def test_the_form_asks_htmx_to_swap_the_body_and_push_the_url(staff_client):
    html = staff_client.get(URL).content.decode()

    form = re.search(r'<form class="period-filter"[^>]*>', html).group(0)
    assert f'hx-get="{URL}"' in form and 'hx-target="#dashboard-body"' in form and 'hx-push-url="true"' in form


def test_a_period_the_page_does_not_offer_falls_back_to_30_days_and_says_so(staff_client, shop):
    response = staff_client.get(URL, {"days": "13"})

    assert response.status_code == 200
    page = text(response.content.decode())
    assert "Showing 30 days: Choose 7, 30 or 90 days, or all time." in page and "Last 30 days" in page


def test_an_empty_studio_shows_zeros_and_calm_messages(staff_client):
    page = text(staff_client.get(URL).content.decode())

    assert "Revenue $0.00 0 paid purchases Credits" in page and "All match" in page
    assert "Nothing is waiting" in page and "No avatar or prompt failed" in page
    assert "Every payment Stripe took in these days paid for its pack." in page
    assert "No payment was refunded or disputed at Stripe in these days." in page
    assert "No tunes were trained in these days." in page


_serial = itertools.count()


def populate(count: int) -> None:
    """count avatars across every state, each with an owner, credits, a purchase and prompts."""
    today = timezone.localdate()
    states = itertools.cycle(
        [AvatarState.DONE, AvatarState.FAILED, AvatarState.QUEUED, AvatarState.TRAINING, AvatarState.GENERATING]
    )
    for index in range(count):
        days_ago = index % 30
        owner = UserFactory()
        ledger(owner, today, ("grant", 8, days_ago), ("purchase", 50, days_ago), ("spend", -16, days_ago))
        reversed_at_stripe(paid(owner, today, 1200, days_ago), today, days_ago, dispute_status="lost")
        refused(owner, today, "it was paid in 'eur', not 'usd'", days_ago)
        state = next(states)
        finished = days_ago if state in (AvatarState.DONE, AvatarState.FAILED) else None
        made = avatar(
            owner, today, state, created=days_ago, queued=days_ago, submitted=days_ago, finished=finished,
            branch=("fast", "sd15", "flux1")[index % 3], tune_id=next(_serial) + 1,
            failure_reason="Training failed" if state == AvatarState.FAILED else "",
        )
        prompts(made, today, 2, days_ago=days_ago)
        prompts(made, today, 1, days_ago=days_ago, state=PromptState.FAILED, failure_reason="Refused")
    owner.wallet.balance += 1
    owner.wallet.save()  # one wallet off its ledger


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_the_number_of_queries_does_not_grow_with_avatars_users_or_days(
    staff_client, headers, django_assert_max_num_queries
):
    def queries(days: int) -> int:
        with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as captured:
            response = staff_client.get(URL, {"days": days}, headers=headers)
        assert response.status_code == 200
        return len(captured)

    populate(1)
    few = [queries(days) for days in (7, 30, 90)]
    populate(99)
    many = [queries(days) for days in (7, 30, 90)]

    assert few == many
    assert len(set(many)) == 1  # 90 days cost what 7 days cost


def test_pending_jobs_past_the_give_up_time_are_marked_overdue(staff_client, shop, settings):
    settings.AVATAR_GIVE_UP_AFTER = 86400  # the stuck job was paid 10 days ago, the training one today

    page = text(staff_client.get(URL).content.decode())

    assert "Past 1 day a job is overdue" in page
    assert f"Stuck Queued {waited(shop.queued)} overdue" in page
    assert page.count(" overdue ") == 1

    settings.AVATAR_GIVE_UP_AFTER = 14 * 86400
    page = text(staff_client.get(URL).content.decode())
    assert "Past 2 weeks a job is overdue" in page and page.count(" overdue ") == 0


def test_the_admin_links_to_the_dashboard(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    html = client.get(reverse("admin:index")).content.decode()

    assert f'<a href="{URL}">Dashboard</a>' in html and "Log out" in html


def test_all_time_shows_every_figure_since_the_studios_first_day(staff_client, shop):
    page = text(staff_client.get(URL, {"days": "all"}).content.decode())

    first = shop.today - timedelta(days=40)
    assert f"All time : {first:%-d %b %Y} to {shop.today:%-d %b %Y}" in page
    assert "Revenue $42.00 3 paid purchases" in page and "16 granted" in page

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from studio.credits import services
from studio.credits.models import CreditEntry, CreditPool, CreditPurchase, Wallet
from studio.credits.selectors import credit_balance, credit_pool_balance
from tests.credits.factories import PurchaseFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(user, give_credits):
    return give_credits(user, 5)


def test_ledger_list_shows_entries_with_filters_and_search(staff_client, user, entry):
    response = staff_client.get(reverse("admin:credits_creditentry_changelist"), {"q": user.email, "kind": "grant"})

    html = response.content.decode()
    assert response.status_code == 200
    assert user.email in html and "Setup" in html
    assert "Add ledger entry" not in html
    assert 'value="delete_selected"' not in html


def test_ledger_entry_page_is_read_only(staff_client, entry):
    url = reverse("admin:credits_creditentry_change", args=[entry.pk])

    response = staff_client.get(url)
    assert response.status_code == 200
    assert b'name="amount"' not in response.content and b'name="_save"' not in response.content

    response = staff_client.post(url, {"amount": 500, "reason": "edited", "kind": "grant", "key": entry.key})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (5, "Setup")


def test_ledger_entries_cannot_be_added_or_deleted_in_the_admin(staff_client, user, entry):
    add = reverse("admin:credits_creditentry_add")
    assert staff_client.get(add).status_code == 403
    forged = {"user": user.pk, "kind": "grant", "amount": 99, "key": "x", "reason": "x"}
    assert staff_client.post(add, forged).status_code == 403

    delete = reverse("admin:credits_creditentry_delete", args=[entry.pk])
    assert staff_client.get(delete).status_code == 403
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403

    response = staff_client.post(
        reverse("admin:credits_creditentry_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [entry.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert CreditEntry.objects.count() == 1
    assert credit_balance(user=user) == 5


def test_wallet_page_shows_the_balance_and_its_ledger_read_only(staff_client, user, entry):
    services.credit_spend(user=user, amount=2, key="spend:avatar:1", reason="Avatar “Ada”", reference="avatar:1")
    wallet = Wallet.objects.get(user=user)

    response = staff_client.get(reverse("admin:credits_wallet_change", args=[wallet.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "avatar:1" in html and "Avatar “Ada”" in html and "\u22122" in html and "+5" in html
    assert 'name="balance"' not in html
    assert "3 (equals the balance)" in html
    ledger_link = reverse("admin:credits_creditentry_changelist") + f"?user__id__exact={user.pk}"
    assert ledger_link in html
    assert staff_client.get(ledger_link).status_code == 200
    change = reverse("admin:credits_wallet_change", args=[wallet.pk])
    assert staff_client.post(change, {"balance": 999}).status_code == 403
    assert credit_balance(user=user) == 3


def test_wallet_list_opens_each_wallet_by_its_owners_name(staff_client, user, entry):
    pool = CreditPool.objects.create(name="Analytical Engines Ltd")
    services.credit_grant(user=user, pool=pool, amount=40, key="gift:pool", reason="Bought for the team")
    wallets = {wallet.owner_name: wallet for wallet in Wallet.objects.select_related("user", "pool")}

    html = staff_client.get(reverse("admin:credits_wallet_changelist")).content.decode()

    assert "Grant or adjust credits" in html
    for name, wallet in wallets.items():
        link = reverse("admin:credits_wallet_change", args=[wallet.pk])
        assert f'<a href="{link}">{name}</a>' in html


def test_purchases_and_payment_events_are_visible_and_read_only(staff_client):
    purchase = PurchaseFactory()
    assert staff_client.get(reverse("admin:credits_creditpurchase_changelist")).status_code == 200
    assert staff_client.post(
        reverse("admin:credits_creditpurchase_change", args=[purchase.pk]), {"status": "paid"}
    ).status_code == 403
    assert staff_client.get(reverse("admin:credits_paymentevent_changelist")).status_code == 200


def test_staff_grant_a_refused_payment_once_from_the_purchases_list(
    staff_client, staff, user, mailoutbox, django_capture_on_commit_callbacks
):
    refused = PurchaseFactory(
        user=user, status=CreditPurchase.Status.REFUSED, refusal="it was paid in 'eur'", payment_intent_id="pi_test_1"
    )
    pending = PurchaseFactory(user=user)
    changelist = reverse("admin:credits_creditpurchase_changelist")
    assert "Grant the credits of refused payments" in staff_client.get(changelist).content.decode()

    def grant():
        return staff_client.post(
            changelist, {"action": "grant_refused_payments", ACTION_CHECKBOX_NAME: [refused.pk, pending.pk]},
            follow=True,
        ).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        first, again = grant(), grant()  # a double submit

    assert f"Credits granted: 50 to {user.email}." in first
    assert "1 selected purchase not refused: nothing granted for it." in first
    assert "Credits granted" not in again and "2 selected purchases not refused" in again
    refused.refresh_from_db()
    assert (refused.status, refused.paid_event_id) == ("paid", f"staff:{staff.pk}:{refused.pk}")
    assert refused.payment_intent_id == "pi_test_1"  # its refunds and disputes still find it
    assert CreditPurchase.objects.get(pk=pending.pk).status == "pending"
    assert credit_balance(user=user) == 50
    assert CreditEntry.objects.get(user=user).key == f"purchase:{refused.pk}"
    (email,) = mailoutbox  # the buyer hears once
    assert (email.to, email.subject) == ([user.email], "Your credits are in your account")
    assert "its 50 credits are now in your account." in email.body


def _paid_and_refunded(user, refunded_amount: int, *, spent: int = 0, **fields) -> CreditPurchase:
    purchase = PurchaseFactory(
        user=user, status=CreditPurchase.Status.PAID, refunded_amount=refunded_amount, reversed_at=timezone.now(),
        **fields,
    )
    services.credit_grant(user=user, amount=purchase.credits, key=purchase.ledger_key, reason="Bought", kind="purchase")
    if spent:
        services.credit_spend(user=user, amount=spent, key=f"spend:{purchase.pk}", reason="Avatar")
    return purchase


def test_staff_take_back_the_credits_of_refunds_from_the_purchases_list(staff_client, user, other_user):
    whole = _paid_and_refunded(user, 1200)
    spent = _paid_and_refunded(other_user, 1200, spent=30)
    disputed = _paid_and_refunded(UserFactory(), 0, dispute_status="needs_response")
    changelist = reverse("admin:credits_creditpurchase_changelist")
    PurchaseFactory(user=user)  # never paid: not among the refunds and disputes

    listed = staff_client.get(changelist, {"reversed": "yes"}).context["cl"].result_list
    assert {purchase.pk for purchase in listed} == {whole.pk, spent.pk, disputed.pk}

    selected = [whole.pk, spent.pk, disputed.pk]

    def take_back():
        return staff_client.post(
            changelist, {"action": "take_back_reversed_payments", ACTION_CHECKBOX_NAME: selected}, follow=True
        ).content.decode()

    first, again = take_back(), take_back()  # a double submit

    assert f"Credits taken back (each buyer is told by email): 50 from {user.email}." in first
    assert (
        "The wallet held fewer credits than were due; taken back (each buyer is told by email): "
        f"20 of 50 from {other_user.email}." in first
    )
    assert "1 selected purchase has no credits to take back" in first
    assert "Credits taken back" not in again
    assert f"Nothing taken back, the wallet is empty; still due: 30 from {other_user.email}." in again
    assert "2 selected purchases have no credits to take back" in again
    assert (credit_balance(user=user), credit_balance(user=other_user)) == (0, 0)
    assert CreditEntry.objects.filter(kind="adjustment").count() == 2

    # The list says, in each purchase's status, what happened since it was paid.
    listed = staff_client.get(changelist, {"reversed": "yes"}).content.decode()
    assert "Paid · $12.00 refunded · 50 credits taken back" in listed
    assert "Paid · $12.00 refunded · 20 credits taken back" in listed
    assert "Paid · dispute needs a response" in listed


def test_staff_without_the_right_to_change_balances_cannot_take_credits_back(client, user):
    purchase = _paid_and_refunded(user, 1200)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_creditpurchase"))
    client.force_login(viewer)
    changelist = reverse("admin:credits_creditpurchase_changelist")

    assert "Take back the credits" not in client.get(changelist).content.decode()
    client.post(changelist, {"action": "take_back_reversed_payments", ACTION_CHECKBOX_NAME: [purchase.pk]})

    assert credit_balance(user=user) == 50


def _action(client, changelist, ids, **data):
    return client.post(
        reverse(changelist), {"action": "grant_or_adjust_credits", ACTION_CHECKBOX_NAME: ids, **data}
    )


def test_grant_action_asks_for_amount_and_reason_first(staff_client, user, entry):
    wallet = Wallet.objects.get(user=user)

    response = _action(staff_client, "admin:credits_wallet_changelist", [wallet.pk])

    html = response.content.decode()
    assert response.status_code == 200
    assert "Grant or adjust credits" in html and user.email in html
    assert 'name="amount"' in html and 'name="reason"' in html and 'name="token"' in html
    assert credit_balance(user=user) == 5


def test_grant_action_goes_through_the_ledger_with_the_staff_member(staff_client, staff, user, entry):
    wallet = Wallet.objects.get(user=user)
    form = _action(staff_client, "admin:credits_wallet_changelist", [wallet.pk]).context["form"]
    token = form["token"].value()

    data = {"apply": "1", "amount": "10", "reason": "Sorry about the failed avatar", "token": token}
    response = _action(staff_client, "admin:credits_wallet_changelist", [wallet.pk], **data)
    again = _action(staff_client, "admin:credits_wallet_changelist", [wallet.pk], **data)  # a double submit

    assert response.status_code == 302 and again.status_code == 302
    assert credit_balance(user=user) == 15
    adjustment = CreditEntry.objects.get(user=user, kind="adjustment")
    assert (adjustment.amount, adjustment.created_by, adjustment.reason) == (10, staff, "Sorry about the failed avatar")


def test_grant_action_adjusts_a_team_pools_wallet_beside_a_users(staff_client, staff, user, entry):
    pool = CreditPool.objects.create(name="Analytical Engines Ltd")
    services.credit_grant(user=user, pool=pool, amount=50, key="test:pool", reason="Bought for the team")
    wallets = [Wallet.objects.get(pool=pool).pk, Wallet.objects.get(user=user).pk]
    form = _action(staff_client, "admin:credits_wallet_changelist", wallets)
    html = form.content.decode()
    assert "<li>Pool: Analytical Engines Ltd</li>" in html and 'value="Apply to 2 wallets"' in html

    token = form.context["form"]["token"].value()
    data = {"apply": "1", "amount": "-5", "reason": "Refunded at Stripe", "token": token}
    applied = _action(staff_client, "admin:credits_wallet_changelist", wallets, **data)

    assert applied.status_code == 302
    messages = [str(m) for m in applied.wsgi_request._messages]
    assert messages == [f"Removed 5 credits for {user.email}, Pool: Analytical Engines Ltd."]
    assert (credit_pool_balance(pool=pool), credit_balance(user=user)) == (45, 0)
    taken = CreditEntry.objects.get(pool=pool, kind="adjustment")
    assert (taken.amount, taken.created_by, taken.reason) == (-5, staff, "Refunded at Stripe")


def test_grant_action_refuses_a_missing_reason_or_zero(staff_client, user, entry):
    wallet = Wallet.objects.get(user=user)
    for amount, reason in (("5", ""), ("0", "Because")):
        response = _action(
            staff_client, "admin:credits_wallet_changelist", [wallet.pk], apply="1", amount=amount, reason=reason,
            token="8f0f7c32-5d0b-4f55-9a9b-1b0b8c1c2d3e",
        )
        assert response.status_code == 422
        assert b"errorlist" in response.content
    assert credit_balance(user=user) == 5


def test_removing_more_than_a_user_has_is_refused_for_that_user_only(staff_client, user, entry):
    rich = UserFactory()
    services.credit_grant(user=rich, amount=50, key="rich", reason="Setup")

    response = _action(
        staff_client, "admin:accounts_user_changelist", [user.pk, rich.pk], apply="1", amount="-20",
        reason="Correction", token="0c8a8a4e-1f44-4f0e-8a55-6f7f0d9e9b11",
    )

    assert response.status_code == 302
    assert credit_balance(user=user) == 5 and credit_balance(user=rich) == 30
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("Not changed" in m and user.email in m for m in messages)


def test_grant_action_on_users_creates_missing_wallets(staff_client):
    newcomer = UserFactory()  # created outside sign-up: no wallet yet

    _action(
        staff_client, "admin:accounts_user_changelist", [newcomer.pk], apply="1", amount="3", reason="Welcome",
        token="3f2d8f5e-7b8e-4c3f-9a71-2f7b9c0d1e2f",
    )

    assert credit_balance(user=newcomer) == 3


def test_staff_without_ledger_permission_do_not_get_the_action(client, user, entry):
    viewer = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_wallet"))
    client.force_login(viewer)

    html = client.get(reverse("admin:credits_wallet_changelist")).content.decode()
    assert "Grant or adjust credits" not in html
    _action(client, "admin:credits_wallet_changelist", [Wallet.objects.get(user=user).pk], apply="1", amount="9",
            reason="x", token="3f2d8f5e-7b8e-4c3f-9a71-2f7b9c0d1e2f")
    assert credit_balance(user=user) == 5

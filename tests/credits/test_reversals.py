"""Refunds and disputes at Stripe are marked on the purchase they paid for, once and in order;
staff then take back the credits they paid for, once."""

import importlib
import itertools
import logging
import time

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from accounts.models import User
from studio.core.exceptions import InsufficientCredits
from studio.credits import services
from studio.credits.models import CreditEntry, CreditPool, CreditPurchase, PaymentEvent
from studio.credits.reversals import TakeBack, purchase_take_back, stripe_reversal_record
from studio.credits.selectors import credit_balance, credit_pool_balance
from tests.concurrency import run_together
from tests.credits.conftest import checkout_event, post_event
from tests.credits.factories import PurchaseFactory

pytestmark = pytest.mark.django_db

_events = itertools.count(1)  # their ids never meet checkout_event's "evt_test_1"


def stripe_event(type: str, **payment) -> dict:
    """A Stripe event about a payment: `payment` is its Charge (refunds) or its Dispute."""
    return {
        "id": f"evt_reversal_{next(_events)}", "object": "event", "created": int(time.time()), "livemode": False,
        "type": type, "data": {"object": payment},
    }


def refunded(amount: int, *, payment_intent: str = "pi_test_1") -> dict:
    return stripe_event(
        "charge.refunded", id="ch_test_1", object="charge", amount=1200, amount_refunded=amount,
        refunded=amount == 1200, payment_intent=payment_intent, currency="usd",
    )


def disputed(status: str, *, type: str = "charge.dispute.updated") -> dict:
    return stripe_event(
        type, id="du_test_1", object="dispute", amount=1200, charge="ch_test_1", payment_intent="pi_test_1",
        status=status, reason="fraudulent", currency="usd",
    )


@pytest.fixture
def bought(client, stripe_on):
    """A pack paid through Stripe's checkout, its PaymentIntent pi_test_1."""
    purchase = PurchaseFactory()
    post_event(client, checkout_event(purchase, event_id="evt_paid", payment_intent="pi_test_1"))
    purchase.refresh_from_db()
    assert (purchase.status, purchase.payment_intent_id) == ("paid", "pi_test_1")
    return purchase


def test_a_refund_is_marked_on_the_purchase_and_leaves_its_credits_for_staff_to_decide(client, bought):
    response = post_event(client, refunded(1200))

    assert response.status_code == 200
    bought.refresh_from_db()
    assert (bought.refunded_amount, bought.refunded_display) == (1200, "$12.00")
    assert bought.reversed_at is not None and bought.status == "paid"
    assert credit_balance(user=bought.user) == 50


def test_refunds_add_up_and_older_news_changes_nothing(client, bought):
    for amount in (400, 1000, 400):  # the event for the first refund arrives again, last
        post_event(client, refunded(amount))

    bought.refresh_from_db()
    assert bought.refunded_amount == 1000
    assert sorted(bought.refunds.values_list("amount", "price_share")) == [(400, 400), (600, 600)]


def test_a_refund_gives_back_its_share_of_the_price_tax_left_out(client, stripe_on):
    purchase = PurchaseFactory()  # $12.00, $14.40 with the tax Stripe added
    post_event(client, checkout_event(purchase, amount_total=1440, payment_intent="pi_test_1"))

    for amount in (500, 1440):
        post_event(client, refunded(amount))

    assert list(purchase.refunds.order_by("refunded_at").values_list("amount", "price_share")) == [
        (500, 416), (940, 784)  # together the whole price, $12.00
    ]


def test_a_dispute_follows_its_status_and_once_ended_stays_ended(client, bought):
    post_event(client, disputed("needs_response", type="charge.dispute.created"))
    bought.refresh_from_db()
    assert (bought.dispute_status, bought.dispute_display) == ("needs_response", "needs a response")

    post_event(client, disputed("won", type="charge.dispute.closed"))
    post_event(client, disputed("under_review"))  # delivered late

    bought.refresh_from_db()
    assert (bought.dispute_status, bought.dispute_display) == ("won", "won")
    assert credit_balance(user=bought.user) == 50


def test_purchases_paid_before_payments_were_kept_get_theirs_from_their_checkout_event(client, bought):
    CreditPurchase.objects.filter(pk=bought.pk).update(payment_intent_id="")
    unrecorded = PurchaseFactory(status=CreditPurchase.Status.PAID)  # no checkout event to read it from
    migration = importlib.import_module(
        "studio.credits.migrations.0010_purchase_credits_taken_back_and_payment_intents"
    )

    migration.keep_payment_intents(django_apps, schema_editor=None)
    post_event(client, refunded(600))

    bought.refresh_from_db()
    assert (bought.refunded_amount, bought.payment_intent_id) == (600, "pi_test_1")
    assert CreditPurchase.objects.get(pk=unrecorded.pk).payment_intent_id == ""


def test_a_refund_of_a_payment_that_is_not_ours_is_recorded_and_changes_nothing(client, bought, caplog):
    with caplog.at_level(logging.WARNING, logger="studio.credits.reversals"):
        response = post_event(client, refunded(1200, payment_intent="pi_test_someone_elses"))
        post_event(client, stripe_event("charge.refunded", id="ch_test_2", amount_refunded=1200))

    assert response.status_code == 200
    assert PaymentEvent.objects.filter(type="charge.refunded").count() == 2
    bought.refresh_from_db()
    assert (bought.refunded_amount, bought.reversed_at) == (0, None)
    assert caplog.text.count("names no payment of ours") == 2


@pytest.mark.parametrize(
    "payment", [{"amount_refunded": "1200"}, {"amount_refunded": None}, {}], ids=["text", "null", "missing"]
)
def test_a_refund_without_an_amount_changes_nothing(client, bought, payment):
    post_event(client, stripe_event("charge.refunded", payment_intent="pi_test_1", **payment))

    bought.refresh_from_db()
    assert (bought.refunded_amount, bought.reversed_at) == (0, None)


# --- Taking the credits back ---------------------------------------------------------------------


def test_staff_take_back_what_a_refund_paid_for_once_and_the_rest_when_more_is_refunded(client, bought, staff):
    post_event(client, refunded(600))  # half the payment

    first = purchase_take_back(purchase_id=bought.pk, staff=staff)
    again = purchase_take_back(purchase_id=bought.pk, staff=staff)  # a double click

    assert (first, again) == (TakeBack(taken=25, due=25), TakeBack(taken=0, due=0))
    assert credit_balance(user=bought.user) == 25
    line = CreditEntry.objects.get(user=bought.user, kind="adjustment")
    assert (line.amount, line.reason, line.reference, line.created_by) == (
        -25, "Payment refunded (Plus pack)", f"purchase:{bought.pk}", staff
    )

    post_event(client, refunded(1200))  # then the rest
    assert purchase_take_back(purchase_id=bought.pk, staff=staff) == TakeBack(taken=25, due=25)
    assert credit_balance(user=bought.user) == 0
    bought.refresh_from_db()
    assert (bought.taken_back, bought.take_back_due) == (50, 0)
    client.force_login(bought.user)
    history = client.get(reverse("credits:history")).content.decode()
    assert "50 credits · Plus pack" in history and "$12.00 refunded" in history
    assert history.count("Payment refunded (Plus pack)") == 2


def test_what_is_taken_back_follows_what_the_buyer_paid_tax_included(client, staff, stripe_on):
    purchase = PurchaseFactory()  # $12.00, $14.40 with the tax Stripe added
    post_event(client, checkout_event(purchase, amount_total=1440, payment_intent="pi_test_1"))

    post_event(client, refunded(720))  # half of what was paid: $7.20

    assert purchase_take_back(purchase_id=purchase.pk, staff=staff) == TakeBack(taken=25, due=25)


def test_a_lost_dispute_takes_back_the_whole_pack_less_what_a_refund_took(client, bought, staff):
    post_event(client, refunded(240))
    assert purchase_take_back(purchase_id=bought.pk, staff=staff).taken == 10

    post_event(client, disputed("lost", type="charge.dispute.closed"))

    assert purchase_take_back(purchase_id=bought.pk, staff=staff) == TakeBack(taken=40, due=40)
    line = CreditEntry.objects.filter(user=bought.user, kind="adjustment").latest("created_at")
    assert line.reason == "Payment disputed (Plus pack)"
    assert credit_balance(user=bought.user) == 0
    client.force_login(bought.user)
    assert "$2.40 refunded · payment disputed" in client.get(reverse("credits:history")).content.decode()


def test_the_buyer_is_told_by_email_what_was_taken_back_and_why_once_each_time(
    client, bought, staff, mailoutbox, django_capture_on_commit_callbacks
):
    post_event(client, refunded(600))
    with django_capture_on_commit_callbacks(execute=True):
        purchase_take_back(purchase_id=bought.pk, staff=staff)
        purchase_take_back(purchase_id=bought.pk, staff=staff)  # a double click: nothing more to tell
    post_event(client, disputed("lost", type="charge.dispute.closed"))
    with django_capture_on_commit_callbacks(execute=True):
        purchase_take_back(purchase_id=bought.pk, staff=staff)

    refund, dispute = mailoutbox
    assert (refund.to, refund.subject) == ([bought.user.email], "Credits taken back for a payment returned to you")
    assert dispute.subject == refund.subject  # a refund or the bank's reversal: the money went back to them
    assert (
        "We refunded $6.00 of your payment of $12.00 for the Plus pack,\nso the 25 credits it paid for have been "
        "taken back from your account." in refund.body
    )
    assert "Your bank reversed your payment of $12.00 for the Plus pack,\nso the 25 credits" in dispute.body
    assert reverse("credits:history") in dispute.body


def test_a_team_buyer_is_told_the_credits_came_from_the_teams_pool(
    client, staff, stripe_on, mailoutbox, django_capture_on_commit_callbacks
):
    purchase = PurchaseFactory(pool=CreditPool.objects.create(name="Analytical Engines Ltd"))
    post_event(client, checkout_event(purchase, payment_intent="pi_test_1"))
    post_event(client, refunded(960))
    User.objects.filter(pk=purchase.user.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert purchase_take_back(purchase_id=purchase.pk, staff=staff).taken == 40
    assert mailoutbox == []  # a closed account is written to no more

    User.objects.filter(pk=purchase.user.pk).update(is_active=True)
    post_event(client, disputed("lost", type="charge.dispute.closed"))
    with django_capture_on_commit_callbacks(execute=True):
        assert purchase_take_back(purchase_id=purchase.pk, staff=staff).taken == 10
    (email,) = mailoutbox
    assert "the 10 credits it paid for have been taken back from the Analytical Engines Ltd pool." in email.body


@pytest.mark.parametrize("status", ["needs_response", "under_review", "won", "warning_closed"])
def test_a_dispute_not_lost_takes_nothing_back(client, bought, staff, status):
    post_event(client, disputed(status))

    assert purchase_take_back(purchase_id=bought.pk, staff=staff) == TakeBack(taken=0, due=0)
    assert credit_balance(user=bought.user) == 50


def test_a_refused_payment_refunded_had_granted_nothing_and_takes_nothing(client, staff, stripe_on):
    purchase = PurchaseFactory()
    post_event(client, checkout_event(purchase, currency="eur", payment_intent="pi_test_1"))
    post_event(client, refunded(1200))
    purchase.refresh_from_db()
    assert (purchase.status, purchase.refunded_amount) == ("refused", 1200)

    assert purchase_take_back(purchase_id=purchase.pk, staff=staff) == TakeBack(taken=0, due=0)
    assert not CreditEntry.objects.filter(user=purchase.user).exists()


def test_a_pack_given_away_at_no_price_has_nothing_to_take_back(staff):
    free = PurchaseFactory(status=CreditPurchase.Status.PAID, price=0, amount_paid=0, dispute_status="lost")

    assert (free.credits_reversed, purchase_take_back(purchase_id=free.pk, staff=staff)) == (0, TakeBack(0, 0))


def test_credits_already_spent_are_not_taken_below_zero_and_what_comes_back_later_is_not_taken(
    client, bought, staff
):
    services.credit_spend(user=bought.user, amount=40, key="spend:avatar:1", reason="Avatar “Ada”")
    post_event(client, refunded(1200))

    assert purchase_take_back(purchase_id=bought.pk, staff=staff) == TakeBack(taken=10, due=50)
    assert credit_balance(user=bought.user) == 0
    assert purchase_take_back(purchase_id=bought.pk, staff=staff) == TakeBack(taken=0, due=40)
    bought.refresh_from_db()
    assert bought.taken_back == 10


def test_a_team_packs_credits_are_taken_back_from_the_teams_pool(client, staff, stripe_on):
    pool = CreditPool.objects.create(name="Analytical Engines Ltd")
    purchase = PurchaseFactory(pool=pool)
    post_event(client, checkout_event(purchase, payment_intent="pi_test_1"))
    services.credit_grant(user=purchase.user, amount=8, key="gift", reason="Welcome gift")
    post_event(client, refunded(1200))

    assert purchase_take_back(purchase_id=purchase.pk, staff=staff).taken == 50
    assert (credit_pool_balance(pool=pool), credit_balance(user=purchase.user)) == (0, 8)


def test_a_spend_between_reading_the_balance_and_taking_back_changes_nothing(client, bought, staff, monkeypatch):
    post_event(client, refunded(1200))
    real_adjust = services.credit_adjust

    def spent_meanwhile(**kwargs):
        services.credit_spend(user=bought.user, amount=45, key="spend:avatar:2", reason="Avatar “Ada”")
        return real_adjust(**kwargs)

    monkeypatch.setattr("studio.credits.reversals.credit_adjust", spent_meanwhile)

    with pytest.raises(InsufficientCredits):
        purchase_take_back(purchase_id=bought.pk, staff=staff)

    bought.refresh_from_db()
    assert bought.taken_back == 0
    assert not CreditEntry.objects.filter(user=bought.user, kind="adjustment").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_staff_taking_back_at_the_same_moment_take_back_once(client, staff, stripe_on):
    purchase = PurchaseFactory()
    post_event(client, checkout_event(purchase, payment_intent="pi_test_1"))
    post_event(client, refunded(1200))

    results = run_together(lambda _: purchase_take_back(purchase_id=purchase.pk, staff=staff))

    assert sorted(result.taken for result in results) == [0] * 9 + [50]
    assert credit_balance(user=purchase.user) == 0
    assert CreditEntry.objects.filter(user=purchase.user, kind="adjustment").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_refund_arriving_ten_times_at_once_is_recorded_once(client, stripe_on):
    purchase = PurchaseFactory()
    post_event(client, checkout_event(purchase, payment_intent="pi_test_1"))
    charge = refunded(1200)["data"]["object"]

    results = run_together(
        lambda i: stripe_reversal_record(event_type="charge.refunded", payment=charge, event_id=f"evt_test_{i}")
    )

    assert sorted(results) == [False] * 9 + [True]
    assert list(purchase.refunds.values_list("amount", flat=True)) == [1200]

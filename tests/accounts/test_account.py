import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from studio.avatars import reconcile
from studio.avatars.models import AstriaTuneDeletion, Avatar
from studio.credits.models import CreditEntry
from tests.avatars.factories import done_avatar
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_account_page_shows_credits_and_the_way_out(user_client, user, fund):
    fund(user, 12)

    html = user_client.get(reverse("account:index")).content.decode()

    assert "12</strong> credits" in html
    assert "a draft left untouched for 30 days is deleted" in " ".join(html.split())
    assert reverse("credits:buy") in html and reverse("account:delete") in html


@pytest.mark.parametrize("typed", ["delete", "Delete", " DELETE", "DELETE ", "DELET"])
def test_deleting_the_account_takes_the_word_exactly_as_asked(user_client, user, fund, typed):
    fund(user, 12)

    response = user_client.post(reverse("account:delete"), {"confirm": typed})

    assert response.status_code == 422
    assert "exactly as shown" in response.content.decode()
    assert User.objects.get(pk=user.pk).is_active


def test_the_delete_page_says_which_credits_will_be_lost_and_counts_avatars_in_words(user_client, user, fund):
    page = " ".join(user_client.get(reverse("account:delete")).content.decode().split())
    assert "will be lost" not in page and "your 0 avatars" not in page

    fund(user, 12)
    done_avatar(user=user)
    page = " ".join(user_client.get(reverse("account:delete")).content.decode().split())
    assert "Your 12 credits will be lost." in page and "your avatar with its photos and images" in page
    assert "Delete my account and lose 12 credits" in page


def test_deleting_the_account_deletes_every_photo_image_and_tune_and_closes_it(
    client, user, make_draft, settings, astria_sandbox, django_capture_on_commit_callbacks
):
    email = user.email
    make_draft(user)  # a draft with photos on disk
    done = done_avatar(user=user, prompts=1, images_per_prompt=2, tune_id=4242)
    client.force_login(user)
    assert stored_files(settings)

    refused = client.post(reverse("account:delete"), {"confirm": "nope"})
    assert refused.status_code == 422 and "Type the word DELETE" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account:delete"), {"confirm": "DELETE"})

    assert response.status_code == 302 and response.url == reverse("landing")
    assert not Avatar.objects.filter(user=user).exists()
    assert stored_files(settings) == []
    assert AstriaTuneDeletion.objects.get(tune_id=done.tune_id).done_at is not None  # gone at Astria too
    user.refresh_from_db()
    assert not user.is_active and user.email.endswith("@deleted.invalid")
    assert CreditEntry.objects.filter(user=user).exists()  # the ledger stays, anonymous
    refused_login = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert refused_login.status_code == 200 and "not correct" in refused_login.content.decode()
    assert client.get(reverse("avatars:list")).status_code == 302


def test_training_photos_are_purged_after_the_retention_period(
    user, make_draft, settings, django_capture_on_commit_callbacks
):
    settings.PHOTOS_RETENTION_DAYS = 7
    avatar = make_draft(user)
    Avatar.objects.filter(pk=avatar.pk).update(trained_at=timezone.now() - timedelta(days=6))
    with django_capture_on_commit_callbacks(execute=True):
        reconcile.avatar_reconcile()
    assert avatar.photos.count() == 4

    Avatar.objects.filter(pk=avatar.pk).update(trained_at=timezone.now() - timedelta(days=8))
    with django_capture_on_commit_callbacks(execute=True):
        reconcile.avatar_reconcile()
        reconcile.avatar_purge_photos(avatar_id=avatar.pk)  # again: nothing more to do

    assert not avatar.photos.exists()
    assert stored_files(settings) == []
    assert Avatar.objects.get(pk=avatar.pk).photos_purged_at is not None


def test_signing_up_again_after_deletion_starts_afresh_without_free_credits(client, settings):
    from accounts.services import user_delete
    from studio.credits.selectors import credit_balance

    email, password = "carol@example.test", "a-long-Pass-123"
    signup = {"email": email, "password1": password, "password2": password}
    client.post(reverse("account_signup"), signup)
    first = User.objects.get(email=email)
    assert credit_balance(user=first) == settings.CREDITS_SIGNUP_GRANT
    user_delete(user=first)

    response = client.post(reverse("account_signup"), signup)

    assert response.status_code == 302
    again = User.objects.get(email=email)
    assert again.pk != first.pk and again.is_active
    assert credit_balance(user=again) == 0  # the welcome credits came with the first account
    assert not Avatar.objects.filter(user=again).exists()


def test_deleting_the_account_leaves_no_personal_data_in_sessions_logs_ledger_or_payments(
    user, other_user, django_capture_on_commit_callbacks
):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.test import Client

    from accounts.models import Session
    from accounts.services import user_delete
    from studio.credits.models import CreditPurchase, PaymentEvent
    from studio.credits.services import credit_adjust
    from tests.credits.factories import PurchaseFactory
    from tests.factories import UserFactory

    email = user.email
    for person in (user, user, other_user):
        Client().force_login(person)
    assert Session.objects.filter(user_id=user.pk).count() == 2
    staff = UserFactory(is_staff=True)
    credit_adjust(user=user, amount=5, reason=f"Goodwill for {email}", staff_user=staff)
    LogEntry.objects.log_actions(user_id=staff.pk, queryset=[user], action_flag=CHANGE, change_message="Adjusted")
    purchase = PurchaseFactory(user=user)
    payer = {"email": email, "name": "Carol Example", "address": {"city": "Leeds"}, "phone": "+44 113 000"}
    event = {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": purchase.provider_session_id, "client_reference_id": str(purchase.pk), "customer_email": email,
            "customer_details": payer, "amount_total": 1200, "metadata": {"purchase_id": str(purchase.pk)},
        }},
    }
    PaymentEvent.objects.create(provider="stripe", event_id="evt_1", type=event["type"], payload=event)
    CreditPurchase.objects.filter(pk=purchase.pk).update(payment_intent_id="pi_test_1")
    refund = {"id": "evt_3", "type": "charge.refunded", "data": {"object": {
        "id": "ch_test_1", "payment_intent": "pi_test_1", "amount_refunded": 1200, "billing_details": payer,
        "receipt_email": email,
    }}}
    PaymentEvent.objects.create(provider="stripe", event_id="evt_3", type=refund["type"], payload=refund)
    theirs = {**event, "id": "evt_2", "data": {"object": {"customer_email": other_user.email}}}
    PaymentEvent.objects.create(provider="stripe", event_id="evt_2", type=event["type"], payload=theirs)
    user.last_login = timezone.now()
    user.save()

    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user)

    user.refresh_from_db()
    assert user.last_login is None and user.date_joined > timezone.now() - timedelta(minutes=1)
    assert not Session.objects.filter(user_id=user.pk).exists()
    assert Session.objects.filter(user_id=other_user.pk).count() == 1
    assert list(CreditEntry.objects.filter(user=user).values_list("reason", "amount")) == [("Changed by support", 5)]
    stored = PaymentEvent.objects.get(event_id="evt_1").payload
    assert email not in json.dumps(stored) and "Carol" not in json.dumps(stored)
    assert stored["data"]["object"]["amount_total"] == 1200
    assert stored["data"]["object"]["metadata"] == {"purchase_id": str(purchase.pk)}
    refunded = PaymentEvent.objects.get(event_id="evt_3").payload
    assert email not in json.dumps(refunded) and "Carol" not in json.dumps(refunded)
    assert refunded["data"]["object"]["amount_refunded"] == 1200
    assert PaymentEvent.objects.get(event_id="evt_2").payload == theirs
    assert LogEntry.objects.get(object_id=str(user.pk)).object_repr == "Account (deleted)"


def test_expired_sessions_are_cleared_and_live_ones_kept(user, other_user):
    from django.test import Client

    from accounts.models import Session
    from accounts.services import sessions_clear_expired

    for person in (user, other_user):
        Client().force_login(person)
    Session.objects.filter(user_id=user.pk).update(expire_date=timezone.now() - timedelta(seconds=1))

    assert sessions_clear_expired() == 1
    assert list(Session.objects.values_list("user_id", flat=True)) == [other_user.pk]

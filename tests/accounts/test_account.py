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
    assert reverse("credits:buy") in html and reverse("account:delete") in html


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


def test_signing_up_again_after_deletion_starts_afresh(client, user, settings):
    from accounts.services import user_delete_account
    from studio.credits.selectors import credit_balance

    email = user.email
    user_delete_account(user=user)

    response = client.post(
        reverse("account_signup"), {"email": email, "password1": "a-long-Pass-123", "password2": "a-long-Pass-123"}
    )

    assert response.status_code == 302
    again = User.objects.get(email=email)
    assert again.pk != user.pk and again.is_active
    assert credit_balance(user=again) == settings.CREDITS_SIGNUP_GRANT
    assert not Avatar.objects.filter(user=again).exists()

"""Deleting a user in the admin is the same account deletion the person can do themselves."""

from pathlib import Path

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.models import Session
from studio.avatars.models import AstriaTuneDeletion, Avatar
from studio.credits.models import CreditEntry
from tests.avatars.factories import done_avatar
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_deleting_a_user_in_the_admin_deletes_their_account_as_they_would(
    staff_client, user, other_user, fund, settings, astria_sandbox, django_capture_on_commit_callbacks
):
    from django.test import Client

    fund(user, 10)
    done_avatar(user=user, prompts=1, images_per_prompt=2, tune_id=4242)
    Client().force_login(user)
    url = reverse("admin:accounts_user_delete", args=[user.pk])

    page = staff_client.get(url).content.decode()
    assert "credit ledger and purchases stay, anonymised" in page and "Cannot delete" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"post": "yes"})
        staff_client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "delete_selected", ACTION_CHECKBOX_NAME: [other_user.pk], "post": "yes"},
        )

    assert response.status_code == 302
    for person in (user, other_user):
        person.refresh_from_db()
        assert not person.is_active and person.email.endswith("@deleted.invalid")
    assert not Avatar.objects.exists() and AstriaTuneDeletion.objects.filter(tune_id=4242).exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert not Session.objects.filter(user_id=user.pk).exists()
    assert CreditEntry.objects.filter(user=user, amount=10).exists()


def test_a_staff_member_without_the_delete_permission_cannot_delete_a_user(client, user):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_user"))
    client.force_login(viewer)

    response = client.post(reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"})

    assert response.status_code == 403
    user.refresh_from_db()
    assert user.is_active

"""Deleting an avatar leaves nothing that names it, here or at Astria, and retention deletes what
nobody will use: photos of failed avatars and drafts left alone."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from studio.astria.errors import AstriaNotFound, AstriaTransient
from studio.avatars import callbacks, progress, reconcile, services
from studio.avatars.models import AstriaTuneDeletion, Avatar, AvatarState, CallbackEvent, PromptState
from studio.credits.models import CreditEntry
from studio.photos.models import Photo
from studio.themes.models import ChosenTheme

pytestmark = pytest.mark.django_db

FLUX_BASE = 1504944


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_deleting_an_avatar_removes_its_callback_log(client, user, submitted, django_capture_on_commit_callbacks):
    token = callbacks.token_for(kind="tune", nonce=submitted.callback_nonce)
    body = {"tune": {"id": submitted.tune_id, "title": "Ada", "images": ["https://cdn.astria.ai/x.jpg"]}}
    client.post(reverse("astria_callback", args=[token]), json.dumps(body), content_type="application/json")
    assert CallbackEvent.objects.filter(avatar=submitted).exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_delete(user=user, avatar_id=submitted.pk)

    assert not CallbackEvent.objects.exists()


def test_deleting_an_avatar_keeps_its_ledger_lines_but_not_its_name(
    user, submitted, django_capture_on_commit_callbacks
):
    prompt = submitted.prompts.first()
    services.prompt_fail(prompt_id=prompt.pk, reason="Astria refused it")
    named = list(CreditEntry.objects.filter(user=user, reason__contains="Ada").values("pk", "key", "amount", "kind"))
    assert {entry["kind"] for entry in named} == {"spend", "refund"}

    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_delete(user=user, avatar_id=submitted.pk)

    after = CreditEntry.objects.filter(pk__in=[entry["pk"] for entry in named])
    assert list(after.values("pk", "key", "amount", "kind")) == named
    assert {entry.reason for entry in after} == {"Spent on an avatar (deleted)", "Refund for an avatar (deleted)"}
    assert not CreditEntry.objects.filter(reason__contains="Ada").exists()
    assert CreditEntry.objects.filter(user=user, reason="Credits for the test").exists()  # other lines untouched


def test_deleting_an_avatar_takes_its_name_out_of_the_admin_history(
    user, make_draft, django_capture_on_commit_callbacks
):
    avatar = make_draft(user)
    LogEntry.objects.log_actions(user_id=user.pk, queryset=[avatar], action_flag=CHANGE, change_message="Refunded")
    avatar_type = ContentType.objects.get_for_model(Avatar)
    assert LogEntry.objects.get(content_type=avatar_type).object_repr == "Ada (woman)"

    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_delete(user=user, avatar_id=avatar.pk)

    entry = LogEntry.objects.get(content_type=avatar_type)
    assert entry.object_repr == "Avatar (deleted)" and entry.change_message == "Refunded"


@pytest.fixture
def lora_trained(settings, user, make_draft, studio_on_sandbox, django_capture_on_commit_callbacks):
    """A trained flux1 avatar: a LoRA tune whose prompts were made on the shared base tune (held
    back at Astria, so no image is rendered)."""
    settings.ASTRIA_BRANCH = "flux1"
    settings.ASTRIA_BASE_TUNE_ID = FLUX_BASE
    studio_on_sandbox.set_delays(training=3600, prompt=3600)
    avatar = make_draft(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    avatar.refresh_from_db()
    studio_on_sandbox.train_now(avatar.tune_id)
    studio_on_sandbox.wait_for(lambda: studio_on_sandbox.client().get_tune(avatar.tune_id).trained_at)
    with django_capture_on_commit_callbacks(execute=True):
        progress.avatar_sync_tune(avatar_id=str(avatar.pk))
    avatar.refresh_from_db()
    assert avatar.is_lora and avatar.prompts.filter(state=PromptState.SUBMITTED).count() == 3
    return avatar


def test_deleting_a_lora_avatar_deletes_its_prompts_on_the_base_tune_at_astria(
    user, lora_trained, studio_on_sandbox, django_capture_on_commit_callbacks
):
    astria = studio_on_sandbox.client()
    prompt_ids = list(lora_trained.prompts.values_list("astria_prompt_id", flat=True))
    assert all(astria.get_prompt(FLUX_BASE, prompt_id).tune_id == FLUX_BASE for prompt_id in prompt_ids)

    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_delete(user=user, avatar_id=lora_trained.pk)

    for prompt_id in prompt_ids:
        with pytest.raises(AstriaNotFound):
            astria.get_prompt(FLUX_BASE, prompt_id)
    with pytest.raises(AstriaNotFound):
        astria.get_tune(lora_trained.tune_id)
    assert astria.get_tune(FLUX_BASE).id == FLUX_BASE  # the shared base tune stays
    deletion = AstriaTuneDeletion.objects.get(tune_id=lora_trained.tune_id)
    assert deletion.done_at is not None and deletion.prompts == []


def test_a_lora_prompt_deletion_astria_fails_is_retried_before_the_tune_goes(
    user, lora_trained, studio_on_sandbox, django_capture_on_commit_callbacks
):
    astria = studio_on_sandbox.client()
    prompt_ids = list(lora_trained.prompts.values_list("astria_prompt_id", flat=True))
    with django_capture_on_commit_callbacks(execute=False):
        services.avatar_delete(user=user, avatar_id=lora_trained.pk)
    studio_on_sandbox.fail_next(1, 500, scope="any")

    with pytest.raises(AstriaTransient):
        reconcile.astria_tune_delete(tune_id=lora_trained.tune_id)  # one attempt of the task

    deletion = AstriaTuneDeletion.objects.get(tune_id=lora_trained.tune_id)
    assert deletion.done_at is None and "Astria answered 500 to DELETE" in deletion.last_error
    assert len(deletion.prompts) == 3
    assert astria.get_tune(lora_trained.tune_id)  # not before its prompts

    with django_capture_on_commit_callbacks(execute=True):
        reconcile.avatar_reconcile()

    deletion.refresh_from_db()
    assert deletion.done_at is not None and deletion.attempts == 2
    for prompt_id in prompt_ids:
        with pytest.raises(AstriaNotFound):
            astria.get_prompt(FLUX_BASE, prompt_id)
    with pytest.raises(AstriaNotFound):
        astria.get_tune(lora_trained.tune_id)


# --- Retention ------------------------------------------------------------------------------------


def test_photos_of_an_avatar_that_failed_before_training_are_purged_after_the_retention_period(
    user, make_draft, settings, django_capture_on_commit_callbacks
):
    settings.PHOTOS_RETENTION_DAYS = 7
    recent, old = make_draft(user), make_draft(user)
    for avatar, days in ((recent, 6), (old, 8)):
        Avatar.objects.filter(pk=avatar.pk).update(
            state=AvatarState.FAILED, finished_at=timezone.now() - timedelta(days=days)
        )

    with django_capture_on_commit_callbacks(execute=True):
        reconcile.avatar_reconcile()

    assert not old.photos.exists() and Avatar.objects.get(pk=old.pk).photos_purged_at is not None
    assert recent.photos.count() == 4
    assert all(str(old.pk) not in str(path) for path in stored_files(settings))


def _leave_alone(avatar, days: int) -> None:
    then = timezone.now() - timedelta(days=days)
    Avatar.objects.filter(pk=avatar.pk).update(updated_at=then)
    Photo.objects.filter(avatar=avatar).update(updated_at=then)
    ChosenTheme.objects.filter(avatar=avatar).update(updated_at=then)


def test_a_draft_left_alone_for_the_retention_period_is_deleted_with_its_photos(
    user, make_draft, settings, django_capture_on_commit_callbacks
):
    settings.DRAFT_RETENTION_DAYS = 30
    idle, touched, fresh = make_draft(user), make_draft(user), make_draft(user)
    _leave_alone(idle, 31)
    _leave_alone(touched, 31)
    Photo.objects.filter(pk=touched.photos.first().pk).update(updated_at=timezone.now() - timedelta(days=2))
    _leave_alone(fresh, 29)

    with django_capture_on_commit_callbacks(execute=True):
        counts = reconcile.avatar_reconcile()

    assert counts["drafts_deleted"] == 1
    assert not Avatar.objects.filter(pk=idle.pk).exists()
    assert Avatar.objects.filter(pk__in=[touched.pk, fresh.pk]).count() == 2
    assert all(str(idle.pk) not in str(path) for path in stored_files(settings))
    assert Photo.objects.filter(avatar__in=[touched, fresh]).count() == 8


def test_a_drafts_photo_page_says_how_long_an_untouched_draft_is_kept(user_client, user, settings):
    from tests.factories import AvatarFactory

    settings.DRAFT_RETENTION_DAYS = 45
    avatar = AvatarFactory(user=user)

    html = " ".join(user_client.get(reverse("photos:upload", args=[avatar.pk])).content.decode().split())

    assert "A draft left untouched for 45 days is deleted, photos and all." in html


def test_an_old_draft_ordered_meanwhile_is_not_deleted(user, make_draft, settings, django_capture_on_commit_callbacks):
    settings.DRAFT_RETENTION_DAYS = 30
    avatar = make_draft(user)
    _leave_alone(avatar, 31)
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.QUEUED)

    assert services.avatar_delete_idle_draft(avatar_id=avatar.pk) is False
    assert Avatar.objects.filter(pk=avatar.pk).exists()

"""The avatar admin: the record with its callback log, and the staff actions through the services."""

import json
import uuid

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.astria.errors import AstriaNotFound, AstriaTransient
from studio.avatars import callbacks, reconcile, services
from studio.avatars.models import AstriaTuneDeletion, AvatarState, CallbackEvent
from studio.credits.selectors import credit_balance
from tests.avatars.factories import PromptFactory
from tests.factories import AvatarFactory

pytestmark = pytest.mark.django_db


def change_url(avatar) -> str:
    return reverse("admin:avatars_avatar_change", args=[avatar.pk])


def run_action(staff_client, action: str, *avatars, capture):
    with capture(execute=True):
        response = staff_client.post(
            reverse("admin:avatars_avatar_changelist"),
            {"action": action, ACTION_CHECKBOX_NAME: [str(avatar.pk) for avatar in avatars]},
            follow=True,
        )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_the_avatar_page_shows_the_callback_log_with_tokens_redacted(staff_client, client, submitted):
    token = callbacks.token_for(kind="tune", nonce=submitted.callback_nonce)
    body = {"tune": {"id": submitted.tune_id, "callback": f"https://studio.test/astria/callbacks/{token}/"}}
    client.post(reverse("astria_callback", args=[token]), json.dumps(body), content_type="application/json")

    html = staff_client.get(change_url(submitted)).content.decode()

    assert str(submitted.tune_id) in html and "/astria/callbacks/[redacted]" in html
    assert token not in html
    assert submitted.callback_nonce not in html and submitted.callback_token_hash not in html


def test_the_avatar_page_costs_the_same_with_many_prompts_and_callbacks(staff_client):
    avatar = AvatarFactory(state=AvatarState.DONE, tune_id=4242)

    def add(count: int) -> None:
        for _ in range(count):
            prompt = PromptFactory(avatar=avatar)
            CallbackEvent.objects.create(
                kind=CallbackEvent.Kind.PROMPT, avatar=avatar, prompt=prompt, digest=uuid.uuid4().hex, body="{}"
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(change_url(avatar)).status_code == 200
        return len(captured)

    add(1)
    one = queries()
    add(29)
    assert queries() == one


def test_redrive_asks_astria_again_and_moves_a_stuck_avatar_on(
    staff_client, submitted, studio_on_sandbox, django_capture_on_commit_callbacks
):
    studio_on_sandbox.train_now(submitted.tune_id)  # trained at Astria; its callback never came

    messages = run_action(staff_client, "redrive", submitted, capture=django_capture_on_commit_callbacks)

    submitted.refresh_from_db()
    assert "1 avatar(s) re-driven." in messages
    assert submitted.state in (AvatarState.GENERATING, AvatarState.DONE)
    assert submitted.trained_at is not None


def test_refund_stops_an_unfinished_avatar_and_gives_every_credit_back(
    staff_client, user, submitted, django_capture_on_commit_callbacks
):
    paid = 50 - credit_balance(user=user)
    assert paid > 0

    messages = run_action(staff_client, "refund", submitted, capture=django_capture_on_commit_callbacks)
    again = run_action(staff_client, "refund", submitted, capture=django_capture_on_commit_callbacks)

    submitted.refresh_from_db()
    assert submitted.state == AvatarState.FAILED and "support team stopped it" in submitted.failure_reason
    assert credit_balance(user=user) == 50
    assert f"{paid} credit(s) refunded." in messages and "0 credit(s) refunded." in again


def test_delete_at_astria_removes_the_tune_there_and_keeps_our_records(
    staff_client, submitted, studio_on_sandbox, django_capture_on_commit_callbacks
):
    messages = run_action(staff_client, "delete_at_astria", submitted, capture=django_capture_on_commit_callbacks)

    assert "1 tune(s) queued for deletion at Astria." in messages
    assert AstriaTuneDeletion.objects.get(tune_id=submitted.tune_id).done_at is not None
    with pytest.raises(AstriaNotFound):
        studio_on_sandbox.client().get_tune(submitted.tune_id)
    submitted.refresh_from_db()
    assert submitted.tune_id is not None and submitted.prompts.exists()


def test_a_tune_deletion_astria_fails_shows_the_error_until_an_attempt_succeeds(
    staff_client, astria_sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        services.astria_tune_delete_later(tune_id=424242)
    astria_sandbox.fail_next(1, 500, scope="any")
    with pytest.raises(AstriaTransient):
        reconcile.astria_tune_delete(tune_id=424242)  # one attempt of the task, which retries it

    page = staff_client.get(reverse("admin:avatars_astriatunedeletion_changelist")).content.decode()
    assert "Astria answered 500 to DELETE /tunes/424242" in page

    reconcile.astria_tune_delete(tune_id=424242)  # the next attempt: a tune already gone counts as deleted
    deletion = AstriaTuneDeletion.objects.get(tune_id=424242)
    assert deletion.done_at is not None and deletion.last_error == "" and deletion.attempts == 2

"""Astria's callbacks: a token authenticates, a replay changes nothing, the body is never trusted."""

import json

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.avatars import callbacks, services, tasks
from studio.avatars.models import Avatar, AvatarState, CallbackEvent, GeneratedImage, Prompt, PromptState
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db



def tune_token(avatar: Avatar) -> str:
    return callbacks.token_for(kind="tune", nonce=avatar.callback_nonce)


def prompt_token(prompt: Prompt) -> str:
    return callbacks.token_for(kind="prompt", nonce=prompt.callback_nonce)


def post(client, token: str, body: dict):
    return client.post(reverse("astria_callback", args=[token]), json.dumps(body), content_type="application/json")


def test_an_unknown_token_is_404_and_writes_nothing(client, submitted):
    before = (CallbackEvent.objects.count(), Avatar.objects.get(pk=submitted.pk).updated_at)

    response = post(client, "0" * 64, {"tune": {"id": submitted.tune_id, "trained_at": "2026-01-01T00:00:00Z"}})

    assert response.status_code == 404
    assert (CallbackEvent.objects.count(), Avatar.objects.get(pk=submitted.pk).updated_at) == before


def test_only_a_hash_of_the_token_is_stored(submitted):
    token = tune_token(submitted)

    assert token not in (submitted.callback_token_hash, submitted.callback_nonce)
    assert submitted.callback_token_hash == callbacks.token_hash(token)


def test_a_callback_is_recorded_once_and_answered_at_once(client, submitted, django_capture_on_commit_callbacks):
    body = {"tune": {"id": submitted.tune_id, "title": str(submitted.pk)}}

    with django_capture_on_commit_callbacks() as first:
        assert post(client, tune_token(submitted), body).status_code == 200
    with django_capture_on_commit_callbacks() as replay:
        assert post(client, tune_token(submitted), body).status_code == 200

    assert CallbackEvent.objects.filter(avatar=submitted, kind="tune").count() == 1
    assert len(first) == 1 and len(replay) == 0  # the re-read is enqueued once


def test_a_prompt_callback_is_recorded_for_its_prompt_and_avatar_and_re_reads_that_prompt(
    client, submitted, django_capture_on_commit_callbacks, monkeypatch
):
    prompt = submitted.prompts.order_by("position").last()
    re_read = []
    monkeypatch.setattr(tasks.prompt_sync, "delay", lambda *args: re_read.append(args))
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, prompt_token(prompt), {"prompt": {"id": prompt.astria_prompt_id}}).status_code == 200

    event = CallbackEvent.objects.get()
    assert (event.kind, event.avatar_id, event.prompt_id) == ("prompt", submitted.pk, prompt.pk)
    assert before <= event.received_at <= timezone.now()
    assert re_read == [(prompt.pk,)]


def test_the_callback_body_is_only_a_trigger(client, submitted, django_capture_on_commit_callbacks):
    # A forged "trained, here are images" body: the studio re-reads Astria, where nothing is trained.
    prompt = submitted.prompts.first()
    forged = {"prompt": {"id": prompt.astria_prompt_id, "images": ["https://evil.example/x.jpg"]}}

    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, prompt_token(prompt), forged).status_code == 200
        post(client, tune_token(submitted), {"tune": {"id": submitted.tune_id, "trained_at": "2026-01-01"}})

    prompt.refresh_from_db()
    assert prompt.state == PromptState.SUBMITTED
    # Untrained, as Astria says: still waiting, or training once the sandbox has started it (it
    # starts within 2 s of creation, and a busy machine may get there before the re-read).
    avatar = Avatar.objects.get(pk=submitted.pk)
    assert avatar.state in (AvatarState.SUBMITTED, AvatarState.TRAINING)
    assert avatar.trained_at is None
    assert not GeneratedImage.objects.exists()


def test_tokens_and_signed_urls_in_the_callback_log_are_redacted(client, submitted):
    token = tune_token(submitted)
    signed = "https://sdbooth2-production.s3.amazonaws.com/ckpt?X-Amz-Signature=s3cr3tsignature"
    callback = f"https://x.test/astria/callbacks/{token}/"
    body = {"tune": {"id": submitted.tune_id, "callback": callback, "ckpt_url": signed}}
    post(client, token, body)

    event = CallbackEvent.objects.get(avatar=submitted)
    assert token not in event.body and "s3cr3tsignature" not in event.body
    assert "https://x.test/astria/callbacks/[redacted]" in event.body


def test_callbacks_in_the_wrong_order_end_in_the_right_state(
    client, submitted, studio_on_sandbox, django_capture_on_commit_callbacks
):
    studio_on_sandbox.train_now(submitted.tune_id)
    studio_on_sandbox.wait_for(
        lambda: all(p.is_done for p in studio_on_sandbox.client().iter_prompts(submitted.tune_id))
    )
    prompts = list(submitted.prompts.all())

    with django_capture_on_commit_callbacks(execute=True):
        for prompt in prompts:  # prompts first...
            post(client, prompt_token(prompt), {"prompt": {"id": prompt.astria_prompt_id}})
        post(client, tune_token(submitted), {"tune": {"id": submitted.tune_id}})  # ...then the tune

    submitted.refresh_from_db()
    assert submitted.state == AvatarState.DONE
    assert GeneratedImage.objects.filter(avatar=submitted).count() == 3 * settings.IMAGES_PER_PROMPT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_callback_ten_times_at_once_stores_one_set_of_images(user, make_draft, studio_on_sandbox):
    avatar = make_draft(user, themes=("golden-hour",))
    services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)  # tasks inline: submitted at once
    tune_id = Avatar.objects.get(pk=avatar.pk).tune_id
    studio_on_sandbox.wait_for(lambda: all(p.is_done for p in studio_on_sandbox.client().iter_prompts(tune_id)))
    prompt = Prompt.objects.get(avatar=avatar)
    body = {"prompt": {"id": prompt.astria_prompt_id}}

    responses = run_together(lambda i: post(Client(), prompt_token(prompt), body))

    assert [response.status_code for response in responses] == [200] * 10
    assert CallbackEvent.objects.filter(prompt=prompt).count() == 1
    assert GeneratedImage.objects.filter(prompt=prompt).count() == settings.IMAGES_PER_PROMPT
    assert Prompt.objects.get(pk=prompt.pk).state == PromptState.DONE


@pytest.mark.parametrize("debug", [False, True])
def test_a_callback_posted_without_the_trailing_slash_is_recorded_like_any_other(client, submitted, settings, debug):
    settings.DEBUG = debug  # Django would redirect the POST (a 301 that loses its body), or fail under DEBUG
    url = reverse("astria_callback", args=[tune_token(submitted)]).rstrip("/")

    response = client.post(url, json.dumps({"tune": {"id": submitted.tune_id}}), content_type="application/json")

    assert response.status_code == 200
    assert CallbackEvent.objects.filter(avatar=submitted, kind="tune").count() == 1


@pytest.mark.postgres
def test_postgresql_plans_the_callback_statement_once_per_connection(client, submitted):
    prompt = submitted.prompts.first()
    for delivery in range(6):
        post(client, prompt_token(prompt), {"prompt": {"id": prompt.astria_prompt_id, "delivery": delivery}})

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%callbackevent%"])
        assert cursor.fetchone()[0] == 1

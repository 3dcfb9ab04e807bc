from datetime import UTC, datetime
from decimal import Decimal

import pytest

from studio.astria.types import Prompt, Tune, parse_datetime
from studio.core.redaction import redact_text, redact_url

TUNE = {
    "id": 2040113,
    "title": "order-7f3c2e1a",
    "name": "woman",
    "is_api": True,
    "token": "ohwx",
    "eta": "2025-05-10T09:41:00.000Z",
    "callback": "https://app.example.test/astria/callbacks/tok_abc123?model_id=42&webhook_secret=s3cr3t",
    "trained_at": "2025-05-10T09:39:47.905Z",
    "started_training_at": "2025-05-10T09:22:01.118Z",
    "expires_at": "2025-06-09T09:39:47.905Z",
    "created_at": "2025-05-10T09:21:13.402Z",
    "updated_at": "2025-05-10T09:39:48.010Z",
    "branch": "sd15",
    "model_type": None,
    "base_tune_id": 690204,
    "args": None,
    "steps": None,
    "face_crop": True,
    "ckpt_url": "https://sdbooth2-production.s3.amazonaws.com/abc123?X-Amz-Signature=zzz",
    "ckpt_urls": [],
    "url": "https://api.astria.ai/tunes/2040113.json",
    "orig_images": [
        "https://sdbooth2-production.s3.amazonaws.com/k2j3",
        "https://sdbooth2-production.s3.amazonaws.com/p0o9",
    ],
    "cost_mc": 150000,
    "workspace_id": 7,
}

PROMPT = {
    "id": 31877405,
    "callback": "https://app.example.test/hooks/astria/tok_xyz?webhook_secret=s3cr3t",
    "trained_at": None,
    "started_training_at": None,
    "created_at": "2025-05-10T09:21:13.611Z",
    "updated_at": "2025-05-10T09:21:13.611Z",
    "tune_id": 2040113,
    "text": "portrait of ohwx woman in a navy blazer, studio lighting",
    "negative_prompt": "blurry, lowres",
    "cfg_scale": "3.0",
    "steps": None,
    "seed": None,
    "super_resolution": True,
    "num_images": 8,
    "prompt_likes_count": 2,
    "liked": True,
    "user_error": None,
    "url": "https://api.astria.ai/tunes/2040113/prompts/31877405.json",
    "images": [],
    "tunes": [{"id": 2040113, "title": "order-7f3c2e1a"}],
    "video_model": "something new",
}


def test_tune_from_api_parses_timestamps_and_keeps_unknown_fields():
    tune = Tune.from_api(TUNE)

    assert tune.id == 2040113 and tune.title == "order-7f3c2e1a" and tune.base_tune_id == 690204
    assert tune.trained_at == datetime(2025, 5, 10, 9, 39, 47, 905000, tzinfo=UTC)
    assert tune.is_trained and not tune.is_training and not tune.is_lora
    assert tune.orig_images == tuple(TUNE["orig_images"])
    assert tune.raw["workspace_id"] == 7
    assert hash(tune) == hash(Tune.from_api(TUNE))


def test_a_queued_tune_is_neither_training_nor_trained():
    tune = Tune.from_api({"id": 1, "title": "t", "trained_at": None, "started_training_at": None})

    assert not tune.is_trained and not tune.is_training
    assert tune.expires_at is None and tune.orig_images == ()


def test_prompt_from_api():
    prompt = Prompt.from_api(PROMPT)

    assert prompt.cfg_scale == Decimal("3.0")
    assert (prompt.liked, prompt.likes_count) == (True, 2)
    assert prompt.referenced_tune_ids == (2040113,)
    assert not prompt.is_done and not prompt.is_failed
    assert prompt.raw["video_model"] == "something new"


@pytest.mark.parametrize(
    ("changes", "done", "failed"),
    [
        ({"images": ["https://cdn.test/1.jpg"]}, True, False),
        ({"trained_at": "2025-05-10T09:41:02.300Z"}, True, False),
        ({"images": [{"url": "https://cdn.test/1.jpg", "nsfw": False}]}, True, False),
        ({"user_error": "The image could not be processed"}, False, True),
        ({"user_error": ""}, False, False),
    ],
)
def test_prompt_state_follows_images_timestamps_and_user_error(changes, done, failed):
    prompt = Prompt.from_api(PROMPT | changes)

    assert (prompt.is_done, prompt.is_failed) == (done, failed)


def test_reprs_redact_callback_tokens():
    shown = repr(Tune.from_api(TUNE)) + repr(Prompt.from_api(PROMPT))

    for secret in ("tok_abc123", "tok_xyz", "s3cr3t", "X-Amz-Signature"):
        assert secret not in shown
    assert "https://app.example.test/astria/callbacks/[redacted]" in shown
    assert "https://app.example.test/hooks/[redacted]?[redacted]" in shown


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-03T04:20:10.556Z", datetime(2024, 6, 3, 4, 20, 10, 556000, tzinfo=UTC)),
        ("2024-06-03T04:20:10Z", datetime(2024, 6, 3, 4, 20, 10, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("not a date", None),
        (12345, None),
    ],
)
def test_parse_datetime(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://studio.test/astria/callbacks/tok123/", "https://studio.test/astria/callbacks/[redacted]"),
        ("https://studio.test/webhooks/astria/tok123", "https://studio.test/webhooks/[redacted]"),
        ("https://studio.test/a/b?secret=1", "https://studio.test/a/b?[redacted]"),
        ("https://studio.test/callbacks", "https://studio.test/callbacks"),
        (None, None),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_redact_text_removes_urls_bearer_tokens_and_given_secrets():
    text = 'callback https://s.test/callbacks/abc?x=1 refused; Authorization: Bearer sd_abc "sd_key_1" again'

    cleaned = redact_text(text, secrets=("sd_key_1",))

    assert "abc" not in cleaned and "sd_key_1" not in cleaned and "x=1" not in cleaned
    assert "https://s.test/callbacks/[redacted]" in cleaned

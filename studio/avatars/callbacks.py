"""Astria's callbacks: the token each tune and prompt carries in its callback URL, and recording a call.

A token is a random per-object capability: the server's secret over a per-object nonce, so it can be
rebuilt for a retried request, with only its hash stored for the lookup. A callback's body is only a
trigger: it is recorded once, and a task re-reads the object from Astria before acting on it.
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.crypto import salted_hmac

from studio.avatars import tasks
from studio.avatars.models import Avatar, CallbackEvent, CallbackTarget, Prompt
from studio.core.redaction import redact_text
from studio.core.tasks import enqueue_on_commit

_SALT = "studio.avatars.callbacks"  # part of every token handed out: changing it orphans them all


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for(*, kind: str, nonce: str) -> str:
    """The token for one object: the server's secret over a random nonce; 256 bits."""
    return salted_hmac(_SALT, f"{kind}:{nonce}", algorithm="sha256").hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hash_matches(stored: str | None, hashed: str) -> bool:
    return bool(stored) and hmac.compare_digest(stored, hashed)


def callback_url(token: str) -> str:
    return settings.PUBLIC_URL + reverse("astria_callback", args=[token])


def token_for_target(target: CallbackTarget, *, kind: str) -> str:
    """The target's callback token, created on first use and rebuilt identically afterwards."""
    model = type(target)
    if not target.callback_nonce:
        nonce = new_nonce()
        model.objects.filter(pk=target.pk, callback_nonce="").update(
            callback_nonce=nonce, callback_token_hash=token_hash(token_for(kind=kind, nonce=nonce))
        )
        target.refresh_from_db(fields=["callback_nonce", "callback_token_hash"])
    return token_for(kind=kind, nonce=target.callback_nonce)


def callback_record(*, token: str, body: bytes) -> bool:
    """Record a callback for the object owning token and have a task re-read that object.

    Returns False when the token belongs to nothing (nothing is written). A replay of the same
    body is recorded once and triggers nothing more.
    """
    hashed = token_hash(token)
    # Prompts first: an avatar's prompts call back many times for its tune's once. One row by a
    # unique index, read as values: every callback pays for this lookup.
    prompt = _owner(Prompt.objects.filter(callback_token_hash=hashed), "avatar_id")
    avatar = None
    if prompt is None:
        avatar = _owner(Avatar.objects.filter(callback_token_hash=hashed))
        if avatar is None or not _hash_matches(avatar.callback_token_hash, hashed):
            return False
    elif not _hash_matches(prompt.callback_token_hash, hashed):
        return False
    text = body.decode("utf-8", "replace")
    event = CallbackEvent(
        kind=CallbackEvent.Kind.TUNE if avatar else CallbackEvent.Kind.PROMPT,
        avatar_id=avatar.pk if avatar else prompt.avatar_id,
        prompt_id=None if avatar else prompt.pk,
        digest=token_hash(hashed + ":" + text),
        body=redact_text(text)[: settings.CALLBACK_MAX_BYTES],
    )
    if not _insert_once(event):
        return True  # the same callback again: already recorded and handled
    if avatar:
        enqueue_on_commit(tasks.avatar_sync_tune, str(avatar.pk))
    else:
        enqueue_on_commit(tasks.prompt_sync, prompt.pk)
    return True


def _owner(rows: QuerySet, *fields: str):
    """The one row of a lookup by a unique column as (callback_token_hash, pk, *fields), or None:
    no model instance to build and no ordering asked of the database."""
    return next(iter(rows.order_by().values_list("callback_token_hash", "pk", *fields, named=True)[:1]), None)


def _insert_once(event: CallbackEvent) -> bool:
    """Save the event; False when one with its digest is there already. One INSERT on its own
    (committed at once: the task it triggers must see it), a savepoint only inside a transaction."""
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                event.save()
        else:
            event.save()
    except IntegrityError:
        return False
    return True

"""Astria's callbacks: the token each tune and prompt carries in its callback URL, and recording a call.

A token is a random per-object capability: the server's secret over a per-object nonce, so it can be
rebuilt for a retried request, with only its hash stored for the lookup. A callback's body is only a
trigger: it is recorded once, and a task re-reads the object from Astria before acting on it.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
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


# Find the prompt (most callbacks: an avatar's prompts call back many times for its tune's once) or
# the avatar owning the token by its unique index, and insert the event unless one with its digest
# is there already, in one statement: every callback pays for it, and the lookup and the INSERT
# built through the ORM cost as much as the rest of the request. Outside a transaction it commits at
# once (the task it triggers must see the event); a replay conflicts on the digest and inserts nothing.
_RECORD_SQL = """
INSERT INTO avatars_callbackevent (kind, avatar_id, prompt_id, digest, body, received_at)
SELECT 'prompt', avatar_id, id, %(digest)s, %(body)s, %(now)s FROM avatars_prompt WHERE callback_token_hash = %(hash)s
UNION ALL
SELECT 'tune', id, NULL, %(digest)s, %(body)s, %(now)s FROM avatars_avatar WHERE callback_token_hash = %(hash)s
ON CONFLICT (digest) DO NOTHING
RETURNING kind, avatar_id, prompt_id
"""


def callback_record(*, token: str, body: bytes) -> bool:
    """Record a callback for the object owning token and have a task re-read that object.

    Returns False when the token belongs to nothing (nothing is written). A replay of the same
    body is recorded once and triggers nothing more.
    """
    hashed = token_hash(token)
    text = body.decode("utf-8", "replace")
    params = {
        "hash": hashed,
        "digest": token_hash(hashed + ":" + text),
        "body": redact_text(text)[: settings.CALLBACK_MAX_BYTES],
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_SQL, params)
        recorded = cursor.fetchone()
    if recorded is None:  # a replay (already recorded and handled) or a token of nothing
        return _token_known(hashed)
    kind, avatar_id, prompt_id = recorded
    if kind == CallbackEvent.Kind.TUNE:
        enqueue_on_commit(tasks.avatar_sync_tune, str(Avatar._meta.pk.to_python(avatar_id)))
    else:
        enqueue_on_commit(tasks.prompt_sync, prompt_id)
    return True


def _token_known(hashed: str) -> bool:
    return (
        Prompt.objects.filter(callback_token_hash=hashed).exists()
        or Avatar.objects.filter(callback_token_hash=hashed).exists()
    )

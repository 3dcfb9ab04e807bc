"""Callback tokens: a random per-object capability carried in the URL Astria calls back."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

from studio.avatars.models import CallbackTarget

_SALT = "studio.avatars.callbacks"


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for(*, kind: str, nonce: str) -> str:
    """The token for one object: the server's secret over a random nonce; 256 bits."""
    return salted_hmac(_SALT, f"{kind}:{nonce}", algorithm="sha256").hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(target: CallbackTarget, token: str) -> bool:
    return bool(target.callback_token_hash) and hmac.compare_digest(
        target.callback_token_hash, token_hash(token)
    )


def callback_url(token: str) -> str:
    return settings.PUBLIC_URL + reverse("astria_callback", args=[token])

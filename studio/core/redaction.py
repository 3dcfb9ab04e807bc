"""Keep callback tokens, emailed links, signed URLs and API keys out of logs, reprs, messages and
stored bodies.

Callback URLs carry a per-object secret, either as a path segment after `/callbacks/` (or
`/hooks/`, `/webhooks/`, `/callback/`) or in the query string; pre-signed storage URLs carry theirs
in the query string. The emailed password-reset and confirmation links carry theirs after
`/password/reset/key/` and `/confirm-email/`: whoever reads them can take the account over.
`redact_url` keeps the scheme, the host and the path up to that segment, which is enough to tell
which endpoint was meant.
"""

import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[redacted]"
_URL = re.compile(r"https?://[^\s\"'<>]+")
_BEARER = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)
# The path segments a secret follows, in a URL or a request line: "POST /astria/callbacks/<token>/ 200".
_SECRET_PATH = re.compile(
    r"(/(?:callbacks|callback|hooks|webhooks|webhook|confirm-email|password/reset/key)/)[^/\s\"'?#]+",
    re.IGNORECASE,
)
_KEYS = (
    (re.compile(r"\bsd_[A-Za-z0-9_-]{6,}"), "sd_" + REDACTED),  # Astria API keys
    (re.compile(r"\b(sk|rk|whsec)_(live_|test_)?[A-Za-z0-9]{8,}"), r"\1_" + REDACTED),  # Stripe secrets
)


def redact_url(url: str | None) -> str | None:
    """The URL without its query string and without anything after a segment a secret follows."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    secret = _SECRET_PATH.search(parts.path)
    path = parts.path[: secret.end(1)] + REDACTED if secret else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, REDACTED if parts.query else "", ""))


def redact_text(text: str, *, secrets: tuple[str, ...] = ()) -> str:
    """Free text (a log line, an error or callback body) with URLs redacted, and bearer tokens,
    API keys and the given secrets removed."""
    text = _URL.sub(lambda match: redact_url(match.group(0)) or "", text)
    text = _SECRET_PATH.sub(lambda match: match.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda match: match.group(1) + REDACTED, text)
    for pattern, replacement in _KEYS:
        text = pattern.sub(replacement, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text

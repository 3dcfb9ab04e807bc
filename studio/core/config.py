"""Reading the environment for studio/settings.py: the values that need more than a cast.

Pure functions with no Django imports, so settings can use them before Django is configured.
"""

import ipaddress
import secrets
from decimal import Decimal
from email.utils import parseaddr
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def secret_key(*, value: str, debug: bool, var_dir: Path) -> str:
    """SECRET_KEY from the environment; in development, the key `make run` wrote into var/ (so web,
    worker and beat share it), or one for this process alone."""
    if value:
        return value
    if not debug:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (50+ random "
            "characters), or set DEBUG=1 for local development."
        )
    key_file = var_dir / "secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    return secrets.token_urlsafe(50)


def address_of(sender: str) -> str:
    """The bare address of "Avatar Studio <studio@example.com>"."""
    return parseaddr(sender)[1] or sender


def redis_url_with_db(url: str, db: int) -> str:
    return f"{url.split('?')[0].rsplit('/', 1)[0]}/{db}" if url.count("/") >= 3 else f"{url}/{db}"


def redis_db_number(url: str) -> int:
    tail = url.split("?")[0].rsplit("/", 1)[-1] if url.count("/") >= 3 else ""
    return int(tail) if tail.isdigit() else 0


def networks(name: str, values: list[str]) -> list[str]:
    """values, once each is known to be an address or a network."""
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not an address or network (e.g. 127.0.0.1,10.0.0.0/8)."
            ) from None
    return values


def usd_by_branch(name: str, raw: str, default: dict[str, str]) -> dict[str, Decimal]:
    """Prices per Astria branch from "fast=0,sd15=1.50", or the default when raw is empty."""
    pairs = [item.split("=", 1) for item in raw.split(",") if item.strip()] if raw else list(default.items())
    try:
        prices = {branch.strip(): Decimal(price.strip()) for branch, price in pairs}
    except (ValueError, ArithmeticError):
        raise ImproperlyConfigured(f'{name} must look like "fast=0,sd15=1.50" (USD per branch).') from None
    if any(not price.is_finite() or price < 0 for price in prices.values()):
        raise ImproperlyConfigured(f"{name}: prices must be zero or more.")
    return prices


# What development does not need to see once per poll, task or file: the libraries' routine lines.
QUIET_LOGGERS = {
    "django.db.backends": "INFO",  # never the SQL, even at DEBUG
    "kombu.connection": "ERROR",  # "No hostname was supplied" for the filesystem broker
}
QUIET_IN_DEVELOPMENT = {
    "celery.app.trace": "WARNING",  # "Task ... succeeded" for every task, the reconciler's every minute
    "celery.worker.strategy": "WARNING",  # "Task ... received"
    "celery.beat": "WARNING",  # "Scheduler: Sending due task" every minute
}


def logging_config(
    *, level: str, format: str, loggers: list[str] | None = None, root: bool = True, quiet: bool = False
) -> dict:
    """One console handler on stdout (JSON lines, or plain text in development) that redacts
    secrets from every record, for the root logger and the named ones. `quiet` (development) leaves
    out routine lines: requests for static files, images and pollers, and Celery's per-task lines."""
    handler = {"handlers": ["console"], "level": level}
    named = {name: {**handler, "propagate": False} for name in loggers or []}
    if quiet and "django.server" in named:
        named["django.server"]["filters"] = ["routine_requests"]
    levels = QUIET_LOGGERS | (QUIET_IN_DEVELOPMENT if quiet else {})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact": {"()": "studio.core.logging.RedactSecrets"},
            "routine_requests": {"()": "studio.core.logging.LeaveOutRoutineRequests"},
        },
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "studio.core.logging.json_formatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": format,
                "filters": ["redact"],
            }
        },
        **({"root": handler} if root else {}),
        "loggers": named | {name: {"level": value} for name, value in levels.items() if name not in named},
    }


def s3_storage(*, bucket: str, endpoint_url: str | None, region_name: str | None, expire: int, **options) -> dict:
    """The default storage on an S3-compatible bucket: private objects, served by signed URLs that
    expire after `expire` seconds, never overwritten (a name taken gets a suffix). Credentials come
    from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the machine's role, unless
    given in `options`."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region_name,
            "default_acl": None,  # the bucket's own policy: private
            "querystring_auth": True,
            "querystring_expire": expire,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "private, max-age=300"},
            **options,
        },
    }

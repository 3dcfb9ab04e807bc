"""The figures the privacy page, the terms and the FAQ state, read from the settings that enforce
them, so a page can never promise other numbers than the studio keeps."""

from dataclasses import dataclass

from django.conf import settings

from studio.avatars.likeness import IDENTITY_KEEP_DAYS
from studio.core.media import THUMBNAIL_MAX_AGE
from studio.credits.packs import price_story


@dataclass(frozen=True)
class Figures:
    photos_retention_days: int
    draft_retention_days: int
    identity_keep_days: int
    export_keep_hours: int
    media_sweep_hours: int
    session_days: int
    login_address_days: int
    thumbnail_cache_minutes: int
    signed_url_minutes: int | None
    min_photos: int
    max_photos: int
    uses_stripe: bool
    support_email: str


def figures() -> Figures:
    storage = settings.STORAGES["default"].get("OPTIONS", {})
    expire = storage.get("querystring_expire") if storage.get("querystring_auth") else None
    return Figures(
        photos_retention_days=settings.PHOTOS_RETENTION_DAYS,
        draft_retention_days=settings.DRAFT_RETENTION_DAYS,
        identity_keep_days=IDENTITY_KEEP_DAYS,
        export_keep_hours=settings.EXPORT_KEEP_HOURS,
        media_sweep_hours=settings.MEDIA_SWEEP_GRACE_HOURS + 24,  # past the grace, the next daily sweep
        session_days=settings.SESSION_COOKIE_AGE // 86400,
        login_address_days=settings.LOGIN_KNOWN_ADDRESS_DAYS,
        thumbnail_cache_minutes=max(1, THUMBNAIL_MAX_AGE // 60),
        signed_url_minutes=max(1, expire // 60) if expire else None,
        min_photos=settings.PHOTOS_MIN_ACCEPTED,
        max_photos=settings.PHOTOS_MAX_PER_AVATAR,
        uses_stripe=bool(settings.STRIPE_SECRET_KEY),
        support_email=settings.SUPPORT_EMAIL,
    )


def page_context() -> dict:
    return {"figures": figures(), "prices": price_story()}

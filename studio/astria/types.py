"""Astria's tune and prompt objects as typed, immutable values.

Astria has no status field on classic tunes and prompts: state follows from the timestamps and
the images. Unknown fields are tolerated and the whole object stays available as `raw`. The repr
shows the callback URL redacted; never log `raw` or `callback` themselves.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation

from studio.core.redaction import redact_url


def parse_datetime(value) -> datetime | None:
    """Astria's `2024-06-03T04:20:10.556Z` (any ISO 8601 with an offset) as an aware datetime."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _int(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _decimal(value) -> Decimal | None:
    """`cfg_scale` arrives as a decimal string (`"3.0"`) or a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _str(value) -> str | None:
    return None if value is None else str(value)


def _bool(value) -> bool | None:
    return None if value is None else bool(value)


def _urls(value) -> tuple[str, ...]:
    """Image lists are URL strings; objects with a `url` key are tolerated too."""
    if not isinstance(value, list):
        return ()
    urls = []
    for item in value:
        if isinstance(item, str):
            urls.append(item)
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            urls.append(item["url"])
    return tuple(urls)


def _repr(obj) -> str:
    shown = []
    for item in fields(obj):
        if not item.repr:
            continue
        value = getattr(obj, item.name)
        if item.name == "callback":
            value = redact_url(value)
        shown.append(f"{item.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(shown)})"


@dataclass(frozen=True, repr=False)
class Tune:
    id: int
    title: str
    name: str | None = None
    token: str | None = None
    branch: str | None = None
    model_type: str | None = None
    base_tune_id: int | None = None
    callback: str | None = None
    steps: int | None = None
    face_crop: bool | None = None
    is_api: bool | None = None
    eta: datetime | None = None
    started_training_at: datetime | None = None
    trained_at: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ckpt_url: str | None = field(default=None, repr=False)
    url: str | None = None
    orig_images: tuple[str, ...] = field(default=(), repr=False)
    raw: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    __repr__ = _repr

    @classmethod
    def from_api(cls, data: dict) -> "Tune":
        return cls(
            id=int(data["id"]),
            title=str(data.get("title") or ""),
            name=_str(data.get("name")),
            token=_str(data.get("token")),
            branch=_str(data.get("branch")),
            model_type=_str(data.get("model_type")),
            base_tune_id=_int(data.get("base_tune_id")),
            callback=_str(data.get("callback")),
            steps=_int(data.get("steps")),
            face_crop=_bool(data.get("face_crop")),
            is_api=_bool(data.get("is_api")),
            eta=parse_datetime(data.get("eta")),
            started_training_at=parse_datetime(data.get("started_training_at")),
            trained_at=parse_datetime(data.get("trained_at")),
            expires_at=parse_datetime(data.get("expires_at")),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            ckpt_url=_str(data.get("ckpt_url")) or None,
            url=_str(data.get("url")),
            orig_images=_urls(data.get("orig_images")),
            raw=dict(data),
        )

    @property
    def is_trained(self) -> bool:
        return self.trained_at is not None

    @property
    def is_training(self) -> bool:
        """Started and not finished yet (queued tunes are neither training nor trained)."""
        return self.started_training_at is not None and self.trained_at is None

    @property
    def is_lora(self) -> bool:
        return self.model_type == "lora"


@dataclass(frozen=True, repr=False)
class Prompt:
    id: int
    tune_id: int | None
    text: str
    negative_prompt: str | None = None
    callback: str | None = None
    num_images: int | None = None
    seed: int | None = None
    steps: int | None = None
    cfg_scale: Decimal | None = None
    super_resolution: bool | None = None
    inpaint_faces: bool | None = None
    w: int | None = None
    h: int | None = None
    liked: bool = False
    likes_count: int = 0
    user_error: str | None = None
    started_training_at: datetime | None = None
    trained_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None
    images: tuple[str, ...] = field(default=(), repr=False)
    referenced_tune_ids: tuple[int, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    __repr__ = _repr

    @classmethod
    def from_api(cls, data: dict) -> "Prompt":
        referenced = data.get("tunes") if isinstance(data.get("tunes"), list) else []
        return cls(
            id=int(data["id"]),
            tune_id=_int(data.get("tune_id")),
            text=str(data.get("text") or ""),
            negative_prompt=_str(data.get("negative_prompt")),
            callback=_str(data.get("callback")),
            num_images=_int(data.get("num_images")),
            seed=_int(data.get("seed")),
            steps=_int(data.get("steps")),
            cfg_scale=_decimal(data.get("cfg_scale")),
            super_resolution=_bool(data.get("super_resolution")),
            inpaint_faces=_bool(data.get("inpaint_faces")),
            w=_int(data.get("w")),
            h=_int(data.get("h")),
            liked=bool(data.get("liked")),
            likes_count=_int(data.get("prompt_likes_count")) or 0,
            user_error=_str(data.get("user_error")) or None,
            started_training_at=parse_datetime(data.get("started_training_at")),
            trained_at=parse_datetime(data.get("trained_at")),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            url=_str(data.get("url")),
            images=_urls(data.get("images")),
            referenced_tune_ids=tuple(
                tune_id
                for item in referenced
                if isinstance(item, dict)
                if (tune_id := _int(item.get("id"))) is not None
            ),
            raw=dict(data),
        )

    @property
    def is_done(self) -> bool:
        """Finished with images (Astria's own tools treat non-empty `images` as done)."""
        return not self.is_failed and (bool(self.images) or self.trained_at is not None)

    @property
    def is_failed(self) -> bool:
        """Ended without images for a reason Astria puts in `user_error`."""
        return self.user_error is not None

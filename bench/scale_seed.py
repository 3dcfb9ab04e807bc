"""A studio with `size` avatars, written with PostgreSQL's COPY through the models' own tables and
columns (bench/bench_scale.py): users, wallets, purchases and the ledger, avatars in every state,
their prompts, 8 images per finished prompt and the callbacks Astria sent.

Every row is one the studio itself could have written: balances equal their ledgers, spends and
refunds follow the prices, finished prompts have their images, and a tenth of the avatars are in
flight (submitted, training or generating, submitted within the last hour), which is what the
reconciler works on. The data spans a year, so the dashboard's periods have something to count.
Columns the seeding does not name get the field's default, so a field added later needs no change
here unless it must vary.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, models
from django.utils import timezone

from accounts.models import User
from studio.avatars.models import Avatar, AvatarState, CallbackEvent, GeneratedImage, Prompt, PromptState
from studio.credits.models import CreditEntry, CreditPurchase, EntryKind, Wallet

IN_FLIGHT_SHARE = 0.10  # 10,000 in flight at 100,000 avatars
BIG_USER_AVATARS = 50
LABELS = [
    "Astronaut on the moon", "Business headshot", "Cyberpunk city at night", "Watercolour portrait",
    "Renaissance oil painting", "Film noir detective", "Superhero poster", "Viking warrior", "Anime hero",
    "Polaroid at the beach", "Royal portrait", "Mountain explorer", "Jazz club singer", "Desert nomad",
    "Pixar style character", "Studio Ghibli meadow", "Fashion magazine cover", "Chef in a kitchen",
]
BRANCHES = ["fast", "fast", "fast", "sd15"]
PACK_CREDITS, PACK_PRICE = 100, 1900


def copy_rows(model: type[models.Model], names: list[str], rows: Iterable[tuple]) -> int:
    """COPY rows into the model's table; `names` are field names, in the order of each tuple.

    Every other concrete field gets its default (None where it has none), the same for every row;
    an automatic primary key not named is left to its sequence."""
    fields = {f.name: f for f in model._meta.concrete_fields}
    named = [fields[name] for name in names]
    rest = [f for f in model._meta.concrete_fields if f.name not in names and not isinstance(f, models.AutoField)]
    tail = tuple(None if (f.null and not f.has_default()) else f.get_default() for f in rest)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in named + rest)
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row + tail)
            count += 1
    return count


@dataclass
class Seeded:
    """What the measurements need to know about the data."""

    size: int
    counts: dict[str, int] = field(default_factory=dict)
    staff_id: int = 0
    big_user_id: int = 0
    big_user_email: str = ""
    gallery_avatar_id: str = ""
    prompt_label_word: str = "Astronaut"
    in_flight: int = 0


@dataclass
class _Avatar:
    id: uuid.UUID
    user: int
    state: str
    branch: str
    created: datetime
    prompts: int


def seed(size: int, *, now: datetime | None = None) -> Seeded:
    now = now or timezone.now()
    rng = random.Random(size)
    result = Seeded(size=size)
    users = max(2, size // 2)
    first_id = 1
    year = timedelta(days=365)

    def joined(user: int) -> datetime:
        return now - year - timedelta(days=10) + timedelta(seconds=(user * 977) % (360 * 86400))

    # Avatars and who owns them: user 1 owns 50, user 2 one, the rest about two each.
    avatars: list[_Avatar] = []
    in_flight = round(size * IN_FLIGHT_SHARE)
    for index in range(size):
        if index < BIG_USER_AVATARS:
            user, state = first_id, AvatarState.DONE
        elif index == BIG_USER_AVATARS:
            user, state = first_id + 1, AvatarState.DONE
        else:
            user = first_id + 2 + index % (users - 2) if users > 2 else first_id
            roll = rng.random()
            if index < BIG_USER_AVATARS + 1 + in_flight:
                state = (AvatarState.SUBMITTED, AvatarState.TRAINING, AvatarState.TRAINING,
                         AvatarState.GENERATING, AvatarState.GENERATING)[index % 5]
            elif roll < 0.05:
                state = AvatarState.DRAFT
            elif roll < 0.10:
                state = AvatarState.FAILED
            else:
                state = AvatarState.DONE
        if state in (AvatarState.SUBMITTED, AvatarState.TRAINING, AvatarState.GENERATING):
            created = now - timedelta(seconds=rng.uniform(600, 3000))
        else:
            age = timedelta(seconds=rng.uniform(3600, year.total_seconds()))
            created = max(joined(user) + timedelta(hours=1), now - age)
        prompts = 0 if state == AvatarState.DRAFT else rng.randint(4, 14)
        avatars.append(_Avatar(uuid.UUID(int=rng.getrandbits(128), version=4), user, state, rng.choice(BRANCHES),
                               created, prompts))
    result.in_flight = in_flight

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")

    # Users (one staff member beyond them) with an unusable password.
    def user_rows() -> Iterator[tuple]:
        for user in range(first_id, first_id + users):
            yield (user, "!", f"customer{user}@example.test", False, False, True, joined(user))
        yield (first_id + users, "!", "staff@example.test", True, True, True, now - year - timedelta(days=30))

    result.counts["users"] = copy_rows(
        User, ["id", "password", "email", "is_staff", "is_superuser", "is_active", "date_joined"], user_rows()
    )
    result.staff_id = first_id + users
    result.big_user_id, result.big_user_email = first_id, f"customer{first_id}@example.test"
    result.gallery_avatar_id = str(avatars[0].id)

    # Avatars.
    retention = timedelta(days=7)

    def avatar_rows() -> Iterator[tuple]:
        for tune, a in enumerate(avatars, start=10_000_000):
            paid = a.state != AvatarState.DRAFT
            queued = a.created + timedelta(minutes=5) if paid else None
            submitted = queued + timedelta(seconds=30) if paid else None
            trained = None
            finished = None
            if a.state in (AvatarState.DONE, AvatarState.GENERATING):
                was_done = a.state == AvatarState.DONE
                trained = submitted + timedelta(minutes=20) if was_done else now - timedelta(minutes=2)
            if a.state == AvatarState.DONE:
                finished = trained + timedelta(minutes=10)
            elif a.state == AvatarState.FAILED:
                finished = submitted + timedelta(hours=3)
            eta = submitted + timedelta(minutes=20) if paid else None  # training runs late: most are past it
            # Training photos were deleted a week after training (or after failing untrained).
            ended = trained or finished
            purged = ended + retention if ended and ended < now - retention else None
            yield (
                a.id, a.user, f"Avatar {tune}", "woman" if tune % 2 else "man", a.state, a.branch if paid else "",
                tune if paid else None, eta, queued, submitted, trained, finished,
                2 if paid else 0, "Training did not finish in time." if a.state == AvatarState.FAILED else "",
                purged, a.created, finished or submitted or a.created,
            )

    result.counts["avatars"] = copy_rows(
        Avatar,
        ["id", "user", "name", "subject_class", "state", "branch", "tune_id", "tune_eta", "queued_at",
         "submitted_at", "trained_at", "finished_at", "tune_price", "failure_reason", "photos_purged_at", "created_at",
         "updated_at"],
        avatar_rows(),
    )

    # Prompts (ids given, so images and callbacks can name them), images and callbacks.
    prompt_states: list[tuple[int, _Avatar, str, datetime | None]] = []

    def prompt_rows() -> Iterator[tuple]:
        prompt_id = 0
        for a in avatars:
            submitted = a.created + timedelta(minutes=5, seconds=30)
            for position in range(a.prompts):
                prompt_id += 1
                if a.state == AvatarState.DONE:
                    state = PromptState.FAILED if rng.random() < 0.02 else PromptState.DONE
                elif a.state == AvatarState.FAILED:
                    state = PromptState.FAILED
                elif a.state == AvatarState.GENERATING and position % 2 == 0:
                    state = PromptState.DONE
                else:
                    state = PromptState.SUBMITTED
                finished = None
                if state == PromptState.DONE:
                    if a.state == AvatarState.GENERATING:  # in the last few minutes, each at its own time
                        finished = now - timedelta(seconds=rng.uniform(60, 600))
                    else:
                        finished = submitted + timedelta(minutes=30 + position, seconds=rng.uniform(0, 60))
                elif state == PromptState.FAILED:
                    finished = submitted + timedelta(hours=3)
                prompt_states.append((prompt_id, a, state, finished))
                label = LABELS[(prompt_id * 7) % len(LABELS)]
                yield (
                    prompt_id, a.id, 0, position, label, f"sks {label.lower()}, detailed, 85mm", 8, 1, state,
                    90_000_000 + prompt_id, submitted, finished,
                    "The images did not arrive in time." if state == PromptState.FAILED else "",
                    state == PromptState.FAILED, submitted, finished or submitted,
                )

    result.counts["prompts"] = copy_rows(
        Prompt,
        ["id", "avatar", "batch", "position", "label", "text", "num_images", "price", "state", "astria_prompt_id",
         "submitted_at", "finished_at", "failure_reason", "refunded", "created_at", "updated_at"],
        prompt_rows(),
    )

    def image_rows() -> Iterator[tuple]:
        for prompt_id, a, state, finished in prompt_states:
            if state != PromptState.DONE:
                continue
            folder = f"images/{a.user}/{a.id}"
            for index in range(8):
                image_id = uuid.UUID(int=rng.getrandbits(128), version=4)
                name = f"{folder}/{image_id.hex}"
                stored = finished + timedelta(milliseconds=250 * index)  # downloaded one after the other
                yield (image_id, a.id, prompt_id, index, f"{name}.jpg", f"{name}.webp",
                       1024, 1024, 640, 640, 180_000, index == 0 and prompt_id % 5 == 0, stored, stored)

    result.counts["images"] = copy_rows(
        GeneratedImage,
        ["id", "avatar", "prompt", "index", "image", "thumbnail", "width", "height", "thumb_width", "thumb_height",
         "bytes", "is_favourite", "created_at", "updated_at"],
        image_rows(),
    )

    def callback_rows() -> Iterator[tuple]:
        counter = 0
        for a in avatars:
            if a.state not in (AvatarState.DONE, AvatarState.GENERATING, AvatarState.FAILED):
                continue
            counter += 1
            body = json.dumps({"tune": {"id": counter, "title": str(a.id), "trained_at": a.created.isoformat()}})
            digest = hashlib.sha256(b"t%d" % counter).hexdigest()
            yield ("tune", a.id, None, digest, body, a.created + timedelta(minutes=25))
        for prompt_id, a, state, finished in prompt_states:
            if state == PromptState.DONE:
                body = json.dumps({"prompt": {"id": 90_000_000 + prompt_id, "images": ["..."] * 8}})
                yield ("prompt", a.id, prompt_id, hashlib.sha256(b"p%d" % prompt_id).hexdigest(), body, finished)

    result.counts["callbacks"] = copy_rows(
        CallbackEvent, ["kind", "avatar", "prompt", "digest", "body", "received_at"], callback_rows()
    )

    # Money: each user's signup grant, the packs they bought before spending, spends and refunds.
    spend: dict[int, list[tuple[datetime, int, int, str]]] = {}
    refunds_of: dict[uuid.UUID, int] = {}
    for _prompt_id, a, state, _finished in prompt_states:
        if state == PromptState.FAILED:
            refunds_of[a.id] = refunds_of.get(a.id, 0) + 1
    for a in avatars:
        if a.state == AvatarState.DRAFT:
            continue
        cost = 2 + a.prompts
        refund = cost if a.state == AvatarState.FAILED else refunds_of.get(a.id, 0)
        spend.setdefault(a.user, []).append((a.created + timedelta(minutes=5), cost, refund, str(a.id)))
    purchases: list[tuple] = []
    entries: list[tuple] = []
    wallets: list[tuple] = []
    for user in range(first_id, first_id + users):
        start = joined(user)
        balance = 8
        entries.append((user, EntryKind.GRANT, 8, "Welcome credits", f"signup:{user}", "", start))
        orders = sorted(spend.get(user, []))
        needed = sum(cost for _, cost, _, _ in orders) - 8
        for pack in range(max(0, math.ceil(needed / PACK_CREDITS))):
            purchase_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            paid = (orders[0][0] if orders else start) - timedelta(minutes=10 + pack)
            purchases.append((purchase_id, user, "studio", "Studio pack", PACK_CREDITS, PACK_PRICE, "usd", "test",
                              "paid", paid, paid, paid))
            entries.append((user, EntryKind.PURCHASE, PACK_CREDITS, "Bought the Studio pack", f"purchase:{purchase_id}",
                            f"purchase:{purchase_id}", paid))
            balance += PACK_CREDITS
        for when, cost, refund, avatar_id in orders:
            entries.append(
                (user, EntryKind.SPEND, -cost, "Avatar", f"spend:avatar:{avatar_id}", f"avatar:{avatar_id}", when)
            )
            balance -= cost
            if refund:
                entries.append((user, EntryKind.REFUND, refund, "Refund", f"refund:avatar:{avatar_id}",
                                f"avatar:{avatar_id}", when + timedelta(hours=3)))
                balance += refund
        wallets.append((user, balance, now))
    result.counts["purchases"] = copy_rows(
        CreditPurchase,
        ["id", "user", "pack_slug", "pack_name", "credits", "price", "currency", "provider", "status", "paid_at",
         "created_at", "updated_at"],
        purchases,
    )
    result.counts["ledger"] = copy_rows(
        CreditEntry, ["user", "kind", "amount", "reason", "key", "reference", "created_at"], entries
    )
    result.counts["wallets"] = copy_rows(Wallet, ["user", "balance", "updated_at"], wallets)

    with connection.cursor() as cursor:
        for model in (User, Prompt, CallbackEvent, CreditEntry, Wallet):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
            )
        cursor.execute("ANALYZE")
    return result

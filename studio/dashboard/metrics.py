"""The dashboard's daily metrics: what is counted, on which date, split by what.

Each metric is one aggregate of one model's rows, grouped by the day (in the studio's time zone)
of one date field and, optionally, by a key (a branch, a currency). The rollup stores them per day
(studio/dashboard/rollups.py); what it has not reached yet (today since its last run, a day it
missed) is computed here live, with the same definition. Adding a metric is one line in METRICS;
the dashboard then reads it with `DayFigures.series(name, ...)` or `DayFigures.total(name)`.
Values are whole numbers: a mean (a likeness score, say) is two metrics, its sum (in thousandths)
and its count.
"""

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDay
from django.utils import timezone

from studio.avatars.models import (
    LIKENESS_LOOKS_LIKE,
    LIKENESS_STRONG,
    Avatar,
    AvatarState,
    EditKind,
    GeneratedImage,
    LikenessOutcome,
    Prompt,
    PromptState,
)
from studio.credits.models import CreditEntry, CreditPurchase, EntryKind, PurchaseRefund
from studio.teams.models import Membership, Organisation

Key = tuple[date, str]


@dataclass(frozen=True)
class Metric:
    name: str
    rows: type[Model]  # the model counted
    day_of: str  # the date field whose day the row counts on
    value: Aggregate | Callable[[], Aggregate]  # a callable when it reads settings as it counts
    where: Q = field(default_factory=Q)
    key: str = ""  # a field splitting the metric ("" for none)
    annotate: tuple[tuple[str, object], ...] = ()

    def aggregate(self) -> Aggregate:
        """The value as an aggregate of the rows in the date range that match `where`."""
        value = copy.copy(self.value() if callable(self.value) else self.value)
        value.filter = self.where & value.filter if value.filter is not None else self.where
        return value

    @property
    def source(self) -> tuple:
        """Metrics with the same source are counted in one query."""
        return (self.rows, self.day_of, self.key, tuple(name for name, _ in self.annotate))


def _per_day(metrics: list[Metric], since: datetime, until: datetime) -> dict[str, dict[Key, int]]:
    """{name: {(day, key): value}} for metrics of one source, over the rows whose day is in
    [since, until), in one query; zeros left out."""
    first = metrics[0]
    queryset: QuerySet = first.rows.objects.filter(**{f"{first.day_of}__gte": since, f"{first.day_of}__lt": until})
    if first.annotate:
        queryset = queryset.annotate(**dict(first.annotate))
    fields = ["day", first.key] if first.key else ["day"]
    rows = (
        queryset.annotate(day=TruncDay(first.day_of))
        .order_by()
        .values(*fields)
        .annotate(**{f"m{index}": metric.aggregate() for index, metric in enumerate(metrics)})
    )
    result: dict[str, dict[Key, int]] = {metric.name: {} for metric in metrics}
    for row in rows:
        key = (_local_day(row["day"]), (row[first.key] or "") if first.key else "")
        for index, metric in enumerate(metrics):
            if row[f"m{index}"]:
                result[metric.name][key] = int(row[f"m{index}"])
    return result


def _local_day(value: date | datetime) -> date:
    return timezone.localdate(value) if isinstance(value, datetime) and timezone.is_aware(value) else (
        value.date() if isinstance(value, datetime) else value
    )


def _sent(value: Aggregate) -> Coalesce:
    """An aggregate of the prompts created at Astria on the avatar's tune, at any time ("generate
    more" included), as a subquery run for each avatar counted."""
    sent = (
        Prompt.objects.filter(avatar=OuterRef("pk"), astria_prompt_id__isnull=False)
        .order_by()
        .values("avatar")
        .annotate(n=value)
        .values("n")
    )
    return Coalesce(Subquery(sent, output_field=IntegerField()), 0)


# Rows joined to their avatar only through subqueries, run for the rows in the period: a join
# would tempt the planner into reading every avatar when it expects many rows since the last run.
AVATAR_FAILED = Exists(Avatar.objects.filter(pk=OuterRef("avatar_id"), state=AvatarState.FAILED))
AVATAR_BRANCH = Subquery(Avatar.objects.filter(pk=OuterRef("avatar_id")).values("branch")[:1])
SENT_ON_TUNE = (("sent_prompts", _sent(Count("pk"))), ("sent_images", _sent(Sum("num_images"))))


def _over_fair_use() -> Count:
    """Tunes sent more prompts than FAIR_USE_MAX_PROMPTS (the limit read when counted)."""
    return Count("pk", filter=Q(sent_prompts__gt=settings.FAIR_USE_MAX_PROMPTS))


def _ledger(name: str, kind: str, sign: int = 1, where: Q | None = None) -> Metric:
    return Metric(name, CreditEntry, "created_at", Sum(F("amount") * sign), Q(kind=kind) & (where or Q()))


POOLS = Q(pool__isnull=False)  # organisations' credit pools (the teams)


# Likeness of the portraits of people, per branch: images on the day they were stored, styles
# (original prompts, not their redos) on the day they finished, with what the guarantee did.
SCORED = (("branch", AVATAR_BRANCH),)
JUDGED = (("branch", AVATAR_BRANCH), ("redone", Exists(Prompt.objects.filter(redo_of=OuterRef("pk")))))
FACE = Q(face_found=True)
STYLE = Q(redo_of__isnull=True) & ~Q(likeness_outcome=LikenessOutcome.NONE)
SENT = Q(astria_prompt_id__isnull=False)
TUNED = Q(tune_id__isnull=False)
METRICS: tuple[Metric, ...] = (
    _ledger("credits_sold", EntryKind.PURCHASE),
    _ledger("credits_granted", EntryKind.GRANT),
    _ledger("credits_spent", EntryKind.SPEND, -1),
    _ledger("credits_refunded", EntryKind.REFUND),
    _ledger("credits_adjusted", EntryKind.ADJUSTMENT),
    Metric("purchases", CreditPurchase, "paid_at", Count("pk"), Q(status=CreditPurchase.Status.PAID), key="currency"),
    Metric("revenue", CreditPurchase, "paid_at", Sum("price"), Q(status=CreditPurchase.Status.PAID), key="currency"),
    # Refunded at the provider, on the day each refund arrived, as a share of the price (as revenue).
    Metric("revenue_refunded", PurchaseRefund, "refunded_at", Sum("price_share"),
           Q(purchase__status=CreditPurchase.Status.PAID), key="currency"),
    Metric("avatars_created", Avatar, "created_at", Count("pk")),
    Metric("avatars_paid", Avatar, "queued_at", Count("pk")),
    Metric("avatars_done", Avatar, "finished_at", Count("pk"), Q(state=AvatarState.DONE)),
    Metric("avatars_failed", Avatar, "finished_at", Count("pk"), Q(state=AvatarState.FAILED)),
    # Prompts that failed in avatars that went on (a failed avatar's are counted with it).
    Metric("prompts_failed", Prompt, "finished_at", Count("pk"), Q(state=PromptState.FAILED) & ~Q(AVATAR_FAILED)),
    # Astria: tunes on the day they were submitted, prompts on the day they were sent, per branch.
    Metric("astria_tunes", Avatar, "submitted_at", Count("pk"), TUNED, key="branch"),
    Metric("astria_prompts", Prompt, "submitted_at", Count("pk"), SENT, key="branch",
           annotate=(("branch", AVATAR_BRANCH),)),
    # Fair use, on the day the tune was submitted: what was asked of it since ("generate more" too).
    Metric("tune_prompts", Avatar, "submitted_at", Sum("sent_prompts"), TUNED, annotate=SENT_ON_TUNE),
    Metric("tune_images", Avatar, "submitted_at", Sum("sent_images"), TUNED, annotate=SENT_ON_TUNE),
    Metric("tunes_over_fair_use", Avatar, "submitted_at", _over_fair_use, TUNED, annotate=SENT_ON_TUNE),
    Metric("likeness_scored", GeneratedImage, "created_at", Count("pk"), Q(likeness__isnull=False), "branch", SCORED),
    Metric("likeness_strong", GeneratedImage, "created_at", Count("pk"), FACE & Q(likeness__gte=LIKENESS_STRONG),
           "branch", SCORED),
    Metric("likeness_good", GeneratedImage, "created_at", Count("pk"),
           FACE & Q(likeness__gte=LIKENESS_LOOKS_LIKE, likeness__lt=LIKENESS_STRONG), "branch", SCORED),
    Metric("likeness_weak", GeneratedImage, "created_at", Count("pk"), FACE & Q(likeness__lt=LIKENESS_LOOKS_LIKE),
           "branch", SCORED),
    Metric("likeness_no_face", GeneratedImage, "created_at", Count("pk"), Q(face_found=False), "branch", SCORED),
    Metric("styles_judged", Prompt, "finished_at", Count("pk"), STYLE, "branch", JUDGED),
    Metric("styles_redone", Prompt, "finished_at", Count("pk"), STYLE & Q(redone=True), "branch", JUDGED),
    Metric("styles_refunded", Prompt, "finished_at", Count("pk"),
           STYLE & Q(likeness_outcome=LikenessOutcome.REFUNDED), "branch", JUDGED),
    # The edit studio: paid edits on the day they were ordered, per kind, and the credits they cost.
    Metric("teams_created", Organisation, "created_at", Count("pk")),
    Metric("team_members_joined", Membership, "created_at", Count("pk"), Q(role=Membership.Role.MEMBER)),
    _ledger("team_credits_sold", EntryKind.PURCHASE, where=POOLS),
    _ledger("team_credits_spent", EntryKind.SPEND, -1, where=POOLS),
    _ledger("team_credits_refunded", EntryKind.REFUND, where=POOLS),
    Metric("edits", Prompt, "created_at", Count("pk"), ~Q(kind=EditKind.STYLE), key="kind"),
    Metric("edit_credits", Prompt, "created_at", Sum("price"), ~Q(kind=EditKind.STYLE), key="kind"),
    # ... and of those, the ones Astria failed, whose credits came back (refunds come within hours).
    Metric("edit_credits_refunded", Prompt, "created_at", Sum("price"), ~Q(kind=EditKind.STYLE) & Q(refunded=True),
           key="kind"),
)
# Metrics of a tune's submit day that later prompts on that tune change: the rollup recomputes
# the submit days of tunes sent a prompt since its last run.
TUNE_DAY_METRICS = ("tune_prompts", "tune_images", "tunes_over_fair_use")


@dataclass
class DayFigures:
    """Every metric's values per (day, key) over some days."""

    values: dict[str, dict[Key, int]] = field(default_factory=dict)

    def add(self, name: str, rows: dict[Key, int]) -> None:
        """Add the rows' values to those already there."""
        values = self.values.setdefault(name, {})
        for key, value in rows.items():
            values[key] = values.get(key, 0) + value

    def add_all(self, other: "DayFigures") -> None:
        for name, rows in other.values.items():
            self.add(name, rows)

    def series(self, name: str, days: Iterable[date], key: str | None = None) -> list[int]:
        """One value per day (all keys added up, or only `key`'s)."""
        totals: dict[date, int] = {}
        for (day, row_key), value in self.values.get(name, {}).items():
            if key is None or row_key == key:
                totals[day] = totals.get(day, 0) + value
        return [totals.get(day, 0) for day in days]

    def total(self, name: str) -> int:
        return sum(self.values.get(name, {}).values())

    def by_key(self, name: str) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (_, key), value in self.values.get(name, {}).items():
            totals[key] = totals.get(key, 0) + value
        return totals


def live(since: datetime, until: datetime, names: Iterable[str] | None = None) -> DayFigures:
    """The metrics counted from the records themselves, for the days in [since, until): one query
    per source (model, date field and key)."""
    sources: dict[tuple, list[Metric]] = {}
    for metric in METRICS:
        if names is None or metric.name in names:
            sources.setdefault(metric.source, []).append(metric)
    figures = DayFigures()
    for metrics in sources.values():
        for name, values in _per_day(metrics, since, until).items():
            figures.add(name, values)
    return figures

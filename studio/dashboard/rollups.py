"""The dashboard's daily rollup: every metric of studio/dashboard/metrics.py stored per closed day,
so the dashboard reads a few hundred rows for any period, and counts only today (and any day not
rolled up yet) from the records themselves.

`rollup_refresh`, run by beat every DASHBOARD_ROLLUP_INTERVAL, is safe to run at any time and any
number of times: it recomputes whole days and writes them with an upsert. Each run fills the days
never rolled up (all history on the first run, then any gap), recomputes the last
ROLLUP_RECHECK_DAYS closed days (a row written late, such as a refund whose transaction began
before midnight, lands on its own day and is picked up), and the submit days of tunes that were
sent prompts since the last run ("generate more" changes their fair-use figures). It also compares
every wallet with its ledger, so the dashboard does not sum the whole ledger on each view.

A closed day keeps its figures: deleting an avatar later does not take it out of the days it was
created or finished on (past ROLLUP_RECHECK_DAYS), as the ledger keeps its amounts.
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Min
from django.db.models.functions import TruncDay
from django.utils import timezone

from studio.avatars.models import Avatar, Prompt
from studio.core.days import day_range
from studio.credits.models import CreditEntry, CreditPurchase, Wallet
from studio.credits.selectors import wallets_out_of_balance
from studio.dashboard.metrics import TUNE_DAY_METRICS, DayFigures, live
from studio.dashboard.models import DailyFigure, LedgerCheck, RolledUpDay

ROLLUP_RECHECK_DAYS = 2
LATE_SLACK = timedelta(hours=1)  # how long before a run a transaction may have begun
MISMATCHES_KEPT = 1000


def first_day() -> date | None:
    """The first day anything happened in the studio (an avatar, a ledger entry, a payment)."""
    starts = [
        Avatar.objects.aggregate(first=Min("created_at"))["first"],
        CreditEntry.objects.aggregate(first=Min("created_at"))["first"],
        CreditPurchase.objects.aggregate(first=Min("paid_at"))["first"],
    ]
    starts = [value for value in starts if value is not None]
    return timezone.localdate(min(starts)) if starts else None


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) pairs."""
    ordered = sorted(set(days))
    while ordered:
        start = end = ordered.pop(0)
        while ordered and ordered[0] == end + timedelta(days=1):
            end = ordered.pop(0)
        yield start, end


def _tune_days_touched(since: datetime, before: date) -> set[date]:
    """Submit days (before `before`) of tunes sent a prompt since `since`."""
    until = day_range(before, before)[0]
    days = (
        Prompt.objects.filter(submitted_at__gte=since, avatar__submitted_at__lt=until)
        .annotate(day=TruncDay("avatar__submitted_at"))
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )
    return {timezone.localdate(day) for day in days}


def _store(start: date, end: date, stamp: datetime, names: Iterable[str] | None = None) -> int:
    """Recompute days start..end (of the named metrics, or all) and write them; returns rows written."""
    figures = live(*day_range(start, end), names=names)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    rows = [
        DailyFigure(day=day, metric=name, key=key, value=value, computed_at=stamp)
        for name, values in figures.values.items()
        for (day, key), value in values.items()
    ]
    with transaction.atomic():
        DailyFigure.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["day", "metric", "key"], update_fields=["value", "computed_at"]
        )
        stale = DailyFigure.objects.filter(day__gte=start, day__lte=end, computed_at__lt=stamp)
        if names is not None:
            stale = stale.filter(metric__in=list(names))
        stale.delete()  # figures that became zero
        if names is None:
            RolledUpDay.objects.bulk_create(
                [RolledUpDay(day=day, computed_at=stamp) for day in days],
                update_conflicts=True, unique_fields=["day"], update_fields=["computed_at"],
            )
    return len(rows)


def rollup_refresh(*, now: datetime | None = None) -> dict[str, int]:
    """Bring the rollup up to date (see the module's docstring); returns what it did."""
    now = now or timezone.now()
    stamp = timezone.now()
    today = timezone.localdate(now)
    previous = RolledUpDay.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    start = first_day()
    result = {"days": 0, "tune_days": 0, "figures": 0}
    if start is not None and start < today:
        closed = {start + timedelta(days=n) for n in range((today - start).days)}
        done = set(RolledUpDay.objects.filter(day__gte=start, day__lt=today).values_list("day", flat=True))
        recheck = {today - timedelta(days=n) for n in range(1, ROLLUP_RECHECK_DAYS + 1)}
        days = (closed - done) | (recheck & closed)
        for first, last in _runs(days):
            result["figures"] += _store(first, last, stamp)
        result["days"] = len(days)
        if previous is not None:
            touched = _tune_days_touched(previous - LATE_SLACK, today) - days
            for first, last in _runs(touched):
                result["figures"] += _store(first, last, stamp, names=TUNE_DAY_METRICS)
            result["tune_days"] = len(touched)
    result["wallets_off"] = ledger_check(now=now)
    return result


def ledger_check(*, now: datetime) -> int:
    """Compare every wallet with the sum of its ledger and keep the result; returns how many differ."""
    mismatched = list(wallets_out_of_balance().values_list("pk", flat=True)[:MISMATCHES_KEPT])
    with transaction.atomic():
        LedgerCheck.objects.create(checked_at=now, wallets=Wallet.objects.count(), mismatched=mismatched)
        LedgerCheck.objects.filter(checked_at__lt=now).delete()
    return len(mismatched)


def latest_ledger_check() -> LedgerCheck | None:
    return LedgerCheck.objects.order_by("-checked_at").first()


def figures_for(start: date, end: date, *, today: date) -> DayFigures:
    """Every metric for the days start..end: rolled-up days from DailyFigure, the others (today,
    and days the rollup has not reached) counted live."""
    rolled = set(
        RolledUpDay.objects.filter(day__gte=start, day__lte=min(end, today - timedelta(days=1))).values_list(
            "day", flat=True
        )
    )
    figures = DayFigures()
    stored: dict[str, dict] = {}
    rows = DailyFigure.objects.filter(day__gte=start, day__lte=end).values_list("day", "metric", "key", "value")
    for day, metric, key, value in rows:
        if day in rolled:
            stored.setdefault(metric, {})[(day, key)] = value
    for metric, values in stored.items():
        figures.add(metric, values)
    missing = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    for first, last in _runs(day for day in missing if day not in rolled):
        for metric, values in live(*day_range(first, last)).values.items():
            figures.add(metric, values)
    return figures

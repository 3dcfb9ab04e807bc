"""The dashboard's daily rollup: every metric of studio/dashboard/metrics.py stored per day, so
the dashboard reads a few hundred rows for any period, and counts from the records themselves
only what happened since the last run (and any day not rolled up yet).

`rollup_refresh`, run by beat every DASHBOARD_ROLLUP_INTERVAL, is safe to run at any time and any
number of times: it recomputes whole days and writes them with an upsert. Each run fills the days
never rolled up (all history on the first run, then any gap), recomputes the last
ROLLUP_RECHECK_DAYS closed days (a row written late, such as a refund whose transaction began
before midnight, lands on its own day and is picked up), and the submit days of tunes that were
sent prompts since the last run ("generate more" changes their fair-use figures), and today up to
the run (`RolledUpDay.up_to`): the dashboard adds the rows dated since then, so a row committed
just after a run but dated just before it shows at the next run. It also compares every wallet
with its ledger, so the dashboard does not sum the whole ledger on each view.

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


def _store(
    start: date, end: date, stamp: datetime, *, names: Iterable[str] | None = None, up_to: datetime | None = None
) -> int:
    """Recompute days start..end (of the named metrics, or all; only rows before `up_to` if given)
    and write them; returns the figures written."""
    since, until = day_range(start, end)
    figures = live(since, min(until, up_to) if up_to else until, names=names)
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
                [RolledUpDay(day=day, computed_at=stamp, up_to=up_to) for day in days],
                update_conflicts=True, unique_fields=["day"], update_fields=["computed_at", "up_to"],
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
        done = set(
            RolledUpDay.objects.filter(day__gte=start, day__lt=today, up_to__isnull=True).values_list("day", flat=True)
        )
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
    if start is not None and start <= today:
        # Today so far: the dashboard adds what happened since `now` live.
        result["figures"] += _store(today, today, stamp, up_to=now)
    result["wallets_off"] = ledger_check(now=now)
    return result


def ledger_check(*, now: datetime) -> int:
    """Compare every wallet with the sum of its ledger and keep the result; returns how many differ."""
    mismatched = list(wallets_out_of_balance().values_list("pk", flat=True)[:MISMATCHES_KEPT])
    with transaction.atomic():
        LedgerCheck.objects.create(checked_at=now, wallets=Wallet.objects.count(), mismatched=mismatched)
        LedgerCheck.objects.filter(checked_at__lt=now).delete()
    return len(mismatched)


def figures_for(start: date, end: date) -> DayFigures:
    """Every metric for the days start..end: the rolled-up days from DailyFigure (a day rolled up
    to some time, today's, plus its rows since then counted live), the others counted live."""
    rolled = dict(RolledUpDay.objects.filter(day__gte=start, day__lte=end).values_list("day", "up_to"))
    figures = DayFigures()
    stored: dict[str, dict] = {}
    rows = DailyFigure.objects.filter(day__gte=start, day__lte=end).values_list("day", "metric", "key", "value")
    for day, metric, key, value in rows:
        if day in rolled:
            stored.setdefault(metric, {})[(day, key)] = value
    for metric, values in stored.items():
        figures.add(metric, values)
    for day, up_to in rolled.items():
        if up_to is not None:
            figures.add_all(live(up_to, day_range(day, day)[1]))
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    for first, last in _runs(day for day in days if day not in rolled):
        figures.add_all(live(*day_range(first, last)))
    return figures

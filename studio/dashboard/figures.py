"""The operator's dashboard as it is shown: every figure for one period, with its charts, gauges
and money in words. The daily figures come from the rollup (studio/dashboard/rollups.py: stored
closed days, today counted live), the lists from the apps' selectors, in a fixed number of
queries whatever the number of users, avatars or days; nothing here queries on its own."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

from studio.avatars import selectors as avatar_selectors
from studio.avatars.models import Avatar, EditKind, Prompt
from studio.avatars.selectors import BranchUsage, FairUse
from studio.credits import selectors as credit_selectors
from studio.credits.packs import money
from studio.dashboard import rollups
from studio.dashboard.charts import DENSE_AFTER, Chart, Series, time_chart
from studio.dashboard.metrics import DayFigures
from studio.dashboard.models import LedgerCheck

PERIODS = (7, 30, 90)
ALL_TIME = 0  # the period from the studio's first day
WEEKLY_AFTER = 92  # days; a longer period is charted per week
DEFAULT_PERIOD = 30
LIST_ROWS = 20
WALLET_ROWS = 50


class Rows(list):
    """The first `limit` rows of a longer list (a queryset is read one row past them); `more` says
    whether some were left out."""

    def __init__(self, rows, limit: int) -> None:
        rows = list(rows[: limit + 1])
        super().__init__(rows[:limit])
        self.more = len(rows) > limit


@dataclass(frozen=True)
class Period:
    days: int
    start: date
    end: date
    all_time: bool = False

    @classmethod
    def ending(cls, *, days: int, today: date) -> "Period":
        if days == ALL_TIME:
            start = min(rollups.first_day() or today, today)
            return cls(days=(today - start).days + 1, start=start, end=today, all_time=True)
        return cls(days=days, start=today - timedelta(days=days - 1), end=today)

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    @property
    def per(self) -> str:
        """What one slot of the charts is: a day, or a week for long periods."""
        return "week" if self.days > WEEKLY_AFTER else "day"

    @property
    def slots(self) -> list[date]:
        """The first day of each slot: every day, or the period's first day and then each Monday."""
        if self.per == "day":
            return self.dates
        return [day for index, day in enumerate(self.dates) if index == 0 or day.weekday() == 0]

    def bucket(self, values: list[int]) -> list[int]:
        """One value per day of the period as one value per slot (their sum)."""
        if self.per == "day":
            return values
        totals: list[int] = []
        for index, day in enumerate(self.dates):
            if index == 0 or day.weekday() == 0:
                totals.append(0)
            totals[-1] += values[index]
        return totals


def usd(amount: Decimal) -> str:
    return f"${amount:,.2f}"


@dataclass(frozen=True)
class BranchSpend:
    """Tunes and prompts run on one Astria branch, at the prices in settings (None: not set)."""

    branch: str
    tunes: int
    prompts: int
    tune_cost: Decimal | None
    prompt_cost: Decimal | None

    @property
    def priced(self) -> bool:
        return self.tune_cost is not None and self.prompt_cost is not None

    @property
    def spend(self) -> Decimal | None:
        return self.tunes * self.tune_cost + self.prompts * self.prompt_cost if self.priced else None

    @property
    def spend_display(self) -> str:
        return usd(self.spend) if self.priced else "no price set"


def branch_usage(figures: DayFigures) -> list[BranchUsage]:
    tunes, prompts = figures.by_key("astria_tunes"), figures.by_key("astria_prompts")
    return [BranchUsage(branch, tunes.get(branch, 0), prompts.get(branch, 0)) for branch in sorted(tunes | prompts)]


def branch_spend(usage: list[BranchUsage]) -> list[BranchSpend]:
    return [
        BranchSpend(
            branch=row.branch,
            tunes=row.tunes,
            prompts=row.prompts,
            tune_cost=settings.ASTRIA_COST_PER_TUNE.get(row.branch),
            prompt_cost=settings.ASTRIA_COST_PER_PROMPT.get(row.branch),
        )
        for row in usage
    ]


@dataclass(frozen=True)
class Gauge:
    """A figure against its limit, for a bar with the limit marked on it."""

    value: float
    limit: int

    @property
    def scale(self) -> float:
        return max(self.limit * 1.25, self.value * 1.05)

    @property
    def fill(self) -> str:
        return f"{100 * self.value / self.scale:.2f}%"

    @property
    def mark(self) -> str:
        return f"{100 * self.limit / self.scale:.2f}%"

    @property
    def state(self) -> str:
        if self.value > self.limit:
            return "over"
        return "near" if self.value > 0.85 * self.limit else "ok"


@dataclass(frozen=True)
class WalletMismatch:
    wallet_id: int
    email: str
    balance: int
    ledger_sum: int

    @property
    def difference_display(self) -> str:
        """How far the balance is from the ledger: +3, or -3 with a typographic minus."""
        difference = self.balance - self.ledger_sum
        return f"+{difference:,}" if difference > 0 else f"\u2212{-difference:,}"


@dataclass(frozen=True)
class EditFigures:
    """One kind of paid edit over the period: ordered, the credits they cost and those refunded."""

    kind: str
    ordered: int
    credits: int
    refunded: int

    @property
    def net(self) -> int:
        return self.credits - self.refunded


@dataclass
class Dashboard:
    period: Period
    credit_chart: Chart
    avatar_chart: Chart
    revenue_charts: list[Chart]
    revenue_totals: list[str]
    revenue_headlines: list[str]
    refunded_headlines: list[str]  # refunded at the provider in the period, per currency
    purchases: int
    credits: dict[str, int]
    avatars: dict[str, int]
    spend: list[BranchSpend]
    fair_use: FairUse
    prompts_gauge: Gauge
    images_gauge: Gauge
    pending: list[Avatar]
    pending_count: int
    overdue_before: datetime  # pending since before this: past the reconciler's give-up time
    failed_avatars: list[Avatar]
    failed_prompts: list[Prompt]
    failed_prompt_count: int
    refused_purchases: Rows  # paid at Stripe on other terms than the pack's
    reversed_purchases: Rows  # refunded or disputed at Stripe
    edits: list[EditFigures]  # every paid kind
    teams: dict[str, int]  # organisations created, members joined, their pools' credits sold, spent, refunded
    wallets: Rows  # of WalletMismatch
    wallets_checked_at: datetime | None  # the rollup's last check; None: checked for this view
    likeness: "LikenessFigures"

    @property
    def spend_total(self) -> str:
        return usd(sum((row.spend for row in self.spend if row.priced), Decimal(0)))

    @property
    def spend_complete(self) -> bool:
        return all(row.priced for row in self.spend)

    @property
    def failure_rate(self) -> str:
        finished = self.avatars["done"] + self.avatars["failed"]
        return f"{100 * self.avatars['failed'] / finished:.0f}%" if finished else ""

    @property
    def give_up_words(self) -> str:
        """The reconciler's give-up time in words ("3 hours")."""
        now = timezone.now()
        return timesince(now - timedelta(seconds=settings.AVATAR_GIVE_UP_AFTER), now)

    @property
    def astria_tunes(self) -> int:
        return sum(row.tunes for row in self.spend)

    @property
    def astria_prompts(self) -> int:
        return sum(row.prompts for row in self.spend)

    @property
    def gauges(self) -> list[tuple[Gauge, str, str]]:
        return [(self.prompts_gauge, "Prompts", "prompts"), (self.images_gauge, "Images", "images")]


def _headline(cents: int, currency: str) -> str:
    """Money for a key figure: whole units from 1,000 up ("$1,020"), cents below ("$654.00")."""
    return money(cents, currency) if cents < 100_000 else money(round(cents, -2), currency).replace(".00", "")


def _revenue_charts(period: Period, figures: DayFigures) -> tuple[list[Chart], list[str], list[str], int]:
    sold = figures.by_key("revenue")
    currencies = sorted(sold | figures.by_key("revenue_refunded")) or [settings.CREDIT_PACKS[0]["currency"]]
    charts, totals, headlines = [], [], []
    for currency in currencies:
        values = period.bucket(figures.series("revenue", period.dates, key=currency))
        refunded = period.bucket(figures.series("revenue_refunded", period.dates, key=currency))

        def fmt(cents: int, currency: str = currency) -> str:
            return money(cents, currency)

        def tick(cents: int, currency: str = currency) -> str:
            return money(cents, currency).replace(".00", "")

        charts.append(
            time_chart(
                id=f"chart-revenue-{currency}",
                title=f"Revenue per {period.per}" + (f" ({currency.upper()})" if len(currencies) > 1 else ""),
                kind="bar",
                days=period.slots,
                per=period.per,
                series=[Series("revenue", "Revenue", values), Series("refunded", "Refunded", refunded)],
                fmt=fmt,
                tick_fmt=tick,
                unit=100,  # gridlines on whole currency units
                empty_text="no paid purchases or refunds",
            )
        )
        totals.append(fmt(sum(values)))
        if currency in sold or len(currencies) == 1:  # a currency only refunded in these days sold nothing
            headlines.append(_headline(sum(values), currency))
    return charts, totals, headlines, figures.total("purchases")


def _wallets() -> tuple[Rows, datetime | None]:
    """Wallets whose balance differs from their ledger: those the rollup's last check found, as
    they are now (one corrected since drops out); before any check, every wallet, now."""
    check = LedgerCheck.objects.order_by("-checked_at").first()
    wallets = credit_selectors.wallets_out_of_balance()
    if check is not None:
        wallets = wallets.filter(pk__in=check.mismatched)
    rows = [WalletMismatch(w.pk, w.owner_name, w.balance, w.ledger_sum) for w in wallets[: WALLET_ROWS + 1]]
    return Rows(rows, WALLET_ROWS), check.checked_at if check else None


def dashboard_get(*, days: int, today: date) -> Dashboard:
    """Everything the dashboard shows for the `days` days ending today."""
    period = Period.ending(days=days, today=today)
    span = {"start": period.start, "end": period.end}
    figures = rollups.figures_for(period.start, period.end)

    credits = {
        name: period.bucket(figures.series(f"credits_{name}", period.dates))
        for name in ("sold", "granted", "spent", "refunded")
    }
    credit_chart = time_chart(
        id="chart-credits",
        title=f"Credits per {period.per}",
        kind="line",
        days=period.slots,
        per=period.per,
        series=[
            Series("sold", "Sold", credits["sold"]),
            Series("granted", "Granted", credits["granted"]),
            Series("spent", "Spent", credits["spent"]),
            Series("refunded", "Refunded", credits["refunded"]),
        ],
        empty_text="no credits moved",
    )
    avatars = {
        name: period.bucket(figures.series(f"avatars_{name}", period.dates))
        for name in ("created", "paid", "done", "failed")
    }
    avatar_chart = time_chart(
        id="chart-avatars",
        title=f"Avatars per {period.per}",
        kind="bar" if days <= DENSE_AFTER else "line",
        days=period.slots,
        per=period.per,
        series=[
            Series("created", "Created", avatars["created"]),
            Series("paid", "Paid", avatars["paid"]),
            Series("done", "Done", avatars["done"]),
            Series("failed", "Failed", avatars["failed"]),
        ],
        empty_text="no avatars created or finished",
    )
    revenue_charts, revenue_totals, revenue_headlines, purchases = _revenue_charts(period, figures)
    refunded = sorted(figures.by_key("revenue_refunded").items())

    fair_use = FairUse(
        figures.total("astria_tunes"), figures.total("tune_prompts"), figures.total("tune_images"),
        figures.total("tunes_over_fair_use"),
    )
    failed_prompts = avatar_selectors.prompt_failures(**span)
    wallets, wallets_checked_at = _wallets()
    return Dashboard(
        period=period,
        credit_chart=credit_chart,
        avatar_chart=avatar_chart,
        revenue_charts=revenue_charts,
        revenue_totals=revenue_totals,
        revenue_headlines=revenue_headlines,
        refunded_headlines=[_headline(cents, currency) for currency, cents in refunded if cents],
        purchases=purchases,
        credits={name: sum(values) for name, values in credits.items()},
        avatars={name: sum(values) for name, values in avatars.items()},
        spend=branch_spend(branch_usage(figures)),
        fair_use=fair_use,
        prompts_gauge=Gauge(round(fair_use.prompts_per_tune, 1), settings.FAIR_USE_MAX_PROMPTS),
        images_gauge=Gauge(
            round(fair_use.images_per_tune, 1), settings.FAIR_USE_MAX_PROMPTS * settings.IMAGES_PER_PROMPT
        ),
        pending=list(avatar_selectors.avatar_pending_oldest()[:LIST_ROWS]),
        pending_count=avatar_selectors.avatar_pending_count(),
        overdue_before=timezone.now() - timedelta(seconds=settings.AVATAR_GIVE_UP_AFTER),
        failed_avatars=list(avatar_selectors.avatar_failures(**span)[:LIST_ROWS]),
        failed_prompts=list(failed_prompts[:LIST_ROWS]),
        failed_prompt_count=figures.total("prompts_failed"),
        refused_purchases=Rows(credit_selectors.purchases_refused(**span), LIST_ROWS),
        reversed_purchases=Rows(credit_selectors.purchases_reversed(**span), LIST_ROWS),
        edits=[
            EditFigures(
                kind.label,
                figures.by_key("edits").get(kind.value, 0),
                figures.by_key("edit_credits").get(kind.value, 0),
                figures.by_key("edit_credits_refunded").get(kind.value, 0),
            )
            for kind in EditKind
            if kind != EditKind.STYLE
        ],
        teams={
            name: figures.total(metric)
            for name, metric in (
                ("created", "teams_created"),
                ("members", "team_members_joined"),
                ("sold", "team_credits_sold"),
                ("spent", "team_credits_spent"),
                ("refunded", "team_credits_refunded"),
            )
        },
        wallets=wallets,
        wallets_checked_at=wallets_checked_at,
        likeness=likeness_figures(figures),
    )


# --- Likeness: how the portraits of people scored, and what the guarantee did --------------------


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "none"


@dataclass(frozen=True)
class LikenessRow:
    """One day on one branch (or the period's total): how the delivered portraits scored, and
    how often a style was made again or refunded under the likeness guarantee."""

    day: date | None  # None: the total
    branch: str
    scored: int
    strong: int
    good: int
    weak: int
    no_face: int
    styles: int
    redone: int
    refunded: int

    @property
    def distribution(self) -> list[tuple[str, str, int]]:
        """(name, share of the scored images, count), best first."""
        return [(name, _share(count, self.scored), count) for name, count in (
            ("Strong", self.strong), ("Good", self.good), ("Weak", self.weak), ("No face", self.no_face))]

    @property
    def redo_rate(self) -> str:
        return _share(self.redone, self.styles)

    @property
    def refund_rate(self) -> str:
        return _share(self.refunded, self.styles)


@dataclass(frozen=True)
class LikenessFigures:
    rows: list[LikenessRow]  # latest day first
    total: LikenessRow


LIKENESS_COUNTS = {
    "scored": "likeness_scored", "strong": "likeness_strong", "good": "likeness_good", "weak": "likeness_weak",
    "no_face": "likeness_no_face", "styles": "styles_judged", "redone": "styles_redone",
    "refunded": "styles_refunded",
}


def likeness_figures(figures: DayFigures) -> LikenessFigures:
    """The likeness section from the period's daily figures: a row per day and branch with
    anything in it, latest first, and the period's total."""
    cells: dict[tuple[date, str], dict[str, int]] = {}
    for field_name, metric in LIKENESS_COUNTS.items():
        for key, value in figures.values.get(metric, {}).items():
            cells.setdefault(key, dict.fromkeys(LIKENESS_COUNTS, 0))[field_name] = value
    rows = [LikenessRow(day=day, branch=branch, **counts) for (day, branch), counts in cells.items()]
    totals = {name: figures.total(metric) for name, metric in LIKENESS_COUNTS.items()}
    total = LikenessRow(day=None, branch="all", **totals)
    return LikenessFigures(rows=sorted(rows, key=lambda r: (r.day, r.branch), reverse=True), total=total)

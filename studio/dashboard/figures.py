"""The operator's dashboard as it is shown: every figure for one period, with its charts, gauges
and money in words. The data comes from the apps' aggregate selectors in a fixed number of
queries, whatever the number of users, avatars or days; nothing here queries on its own."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

from studio.avatars import selectors as avatar_selectors
from studio.avatars.models import Avatar, Prompt
from studio.avatars.selectors import BranchUsage, FairUse
from studio.credits import selectors as credit_selectors
from studio.credits.packs import money
from studio.dashboard.charts import DENSE_AFTER, Chart, Series, time_chart

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
LIST_ROWS = 20
WALLET_ROWS = 50


@dataclass(frozen=True)
class Period:
    days: int
    start: date
    end: date

    @classmethod
    def ending(cls, *, days: int, today: date) -> "Period":
        return cls(days=days, start=today - timedelta(days=days - 1), end=today)

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


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


@dataclass
class Dashboard:
    period: Period
    credit_chart: Chart
    avatar_chart: Chart
    revenue_charts: list[Chart]
    revenue_totals: list[str]
    revenue_headlines: list[str]
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
    wallets: list[WalletMismatch]

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

    @property
    def wallets_more(self) -> bool:
        return len(self.wallets) > WALLET_ROWS

    @property
    def wallets_shown(self) -> list[WalletMismatch]:
        return self.wallets[:WALLET_ROWS]


def _by_day(rows: list, period: Period, *names: str) -> dict[str, list[int]]:
    """Per-day rows (days with nothing left out) as one value per day of the period, per name."""
    index = {row["day"]: row for row in rows}
    return {name: [index[day][name] if day in index else 0 for day in period.dates] for name in names}


def _headline(cents: int, currency: str) -> str:
    """Money for a key figure: whole units from 1,000 up ("$1,020"), cents below ("$654.00")."""
    return money(cents, currency) if cents < 100_000 else money(round(cents, -2), currency).replace(".00", "")


def _revenue_charts(period: Period) -> tuple[list[Chart], list[str], list[str], int]:
    rows = credit_selectors.purchase_revenue_by_day(start=period.start, end=period.end)
    currencies = sorted({row["currency"] for row in rows}) or [settings.CREDIT_PACKS[0]["currency"]]
    charts, totals, headlines = [], [], []
    for currency in currencies:
        values = _by_day([row for row in rows if row["currency"] == currency], period, "revenue")["revenue"]

        def fmt(cents: int, currency: str = currency) -> str:
            return money(cents, currency)

        def tick(cents: int, currency: str = currency) -> str:
            return money(cents, currency).replace(".00", "")

        charts.append(
            time_chart(
                id=f"chart-revenue-{currency}",
                title=f"Revenue per day ({currency.upper()})" if len(currencies) > 1 else "Revenue per day",
                kind="bar",
                days=period.dates,
                series=[Series("revenue", "Revenue", values)],
                fmt=fmt,
                tick_fmt=tick,
                unit=100,  # gridlines on whole currency units
                empty_text="no paid purchases",
            )
        )
        totals.append(fmt(sum(values)))
        headlines.append(_headline(sum(values), currency))
    return charts, totals, headlines, sum(row["purchases"] for row in rows)


def dashboard_get(*, days: int, today: date) -> Dashboard:
    """Everything the dashboard shows for the `days` days ending today."""
    period = Period.ending(days=days, today=today)
    span = {"start": period.start, "end": period.end}

    credits = _by_day(
        credit_selectors.credit_totals_by_day(**span), period, "sold", "granted", "spent", "refunded"
    )
    credit_chart = time_chart(
        id="chart-credits",
        title="Credits per day",
        kind="line",
        days=period.dates,
        series=[
            Series("sold", "Sold", credits["sold"]),
            Series("granted", "Granted", credits["granted"]),
            Series("spent", "Spent", credits["spent"]),
            Series("refunded", "Refunded", credits["refunded"]),
        ],
        empty_text="no credits moved",
    )
    avatars = _by_day(avatar_selectors.avatar_totals_by_day(**span), period, "created", "paid", "done", "failed")
    avatar_chart = time_chart(
        id="chart-avatars",
        title="Avatars per day",
        kind="bar" if days <= DENSE_AFTER else "line",
        days=period.dates,
        series=[
            Series("created", "Created", avatars["created"]),
            Series("paid", "Paid", avatars["paid"]),
            Series("done", "Done", avatars["done"]),
            Series("failed", "Failed", avatars["failed"]),
        ],
        empty_text="no avatars created or finished",
    )
    revenue_charts, revenue_totals, revenue_headlines, purchases = _revenue_charts(period)

    fair_use = avatar_selectors.fair_use_for_tunes(**span, prompt_limit=settings.FAIR_USE_MAX_PROMPTS)
    failed_prompts = avatar_selectors.prompt_failures(**span)
    return Dashboard(
        period=period,
        credit_chart=credit_chart,
        avatar_chart=avatar_chart,
        revenue_charts=revenue_charts,
        revenue_totals=revenue_totals,
        revenue_headlines=revenue_headlines,
        purchases=purchases,
        credits={name: sum(values) for name, values in credits.items()},
        avatars={name: sum(values) for name, values in avatars.items()},
        spend=branch_spend(avatar_selectors.astria_usage_by_branch(**span)),
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
        failed_prompt_count=failed_prompts.count(),
        wallets=[
            WalletMismatch(wallet.pk, wallet.user.email, wallet.balance, wallet.ledger_sum)
            for wallet in credit_selectors.wallets_out_of_balance()[: WALLET_ROWS + 1]
        ],
    )


# --- Likeness: its own figures for any date range ----------------------------------------------


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


def likeness_figures(*, start: date, end: date) -> LikenessFigures:
    """The likeness section for the days from start to end inclusive (two queries)."""
    rows = [LikenessRow(**row) for row in avatar_selectors.likeness_by_day_and_branch(start=start, end=end)]
    counts = ("scored", "strong", "good", "weak", "no_face", "styles", "redone", "refunded")
    total = LikenessRow(day=None, branch="all", **{name: sum(getattr(r, name) for r in rows) for name in counts})
    return LikenessFigures(rows=sorted(rows, key=lambda r: (r.day, r.branch), reverse=True), total=total)

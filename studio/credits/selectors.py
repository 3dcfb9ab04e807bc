"""Reads of credits: a user's own balance, ledger and purchases, and the operator's aggregates."""

import datetime
import uuid
from typing import NamedTuple, TypedDict

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce, TruncDay

from accounts.models import User
from studio.core.days import day_range
from studio.credits.models import CreditEntry, CreditPurchase, EntryKind, Wallet


def credit_balance(*, user: User) -> int:
    """The user's balance; 0 for a user without a wallet yet."""
    return Wallet.objects.filter(user=user).values_list("balance", flat=True).first() or 0


def credit_entries_for_user(*, user: User) -> QuerySet[CreditEntry]:
    """The user's ledger, newest first, each entry with `balance_after` (the running balance)."""
    return (
        CreditEntry.objects.filter(user=user)
        .annotate(balance_after=Window(Sum("amount"), order_by=[F("created_at").asc(), F("id").asc()]))
        .order_by("-created_at", "-id")
    )


def purchase_list_for_user(*, user: User) -> QuerySet[CreditPurchase]:
    return CreditPurchase.objects.filter(user=user).order_by("-created_at")


def purchase_get_for_user(*, user: User, purchase_id: uuid.UUID) -> CreditPurchase:
    """The user's purchase; raises CreditPurchase.DoesNotExist for anyone else's."""
    return purchase_list_for_user(user=user).get(pk=purchase_id)


def wallets_out_of_balance() -> QuerySet[Wallet]:
    """Every wallet whose balance differs from the sum of its ledger (should be none), in one query.

    Each row carries `balance` and `ledger_sum`, and its user.
    """
    ledger_sum = (
        CreditEntry.objects.filter(user=OuterRef("user"))
        .order_by()
        .values("user")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        Wallet.objects.annotate(ledger_sum=Coalesce(Subquery(ledger_sum), Value(0)))
        .exclude(balance=F("ledger_sum"))
        .select_related("user")
        .order_by("user__email")
    )


class CreditDay(TypedDict):
    day: datetime.date
    sold: int
    granted: int
    spent: int
    refunded: int
    adjusted: int


def _kind_sum(*kinds: str) -> Coalesce:
    return Coalesce(Sum("amount", filter=Q(kind__in=kinds)), Value(0))


def credit_totals_by_day(*, start: datetime.date, end: datetime.date) -> list[CreditDay]:
    """Credits sold, granted, spent (as a positive number), refunded and adjusted per day (UTC),
    for days from start to end inclusive that had any movement."""
    since, until = day_range(start, end)
    rows = (
        CreditEntry.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDay("created_at"))
        .order_by()
        .values("day")
        .annotate(
            sold=_kind_sum(EntryKind.PURCHASE),
            granted=_kind_sum(EntryKind.GRANT),
            spent=_kind_sum(EntryKind.SPEND),
            refunded=_kind_sum(EntryKind.REFUND),
            adjusted=_kind_sum(EntryKind.ADJUSTMENT),
        )
        .order_by("day")
    )
    return [
        CreditDay(
            day=row["day"].date(),
            sold=row["sold"],
            granted=row["granted"],
            spent=-row["spent"],
            refunded=row["refunded"],
            adjusted=row["adjusted"],
        )
        for row in rows
    ]


class RevenueDay(TypedDict):
    day: datetime.date
    currency: str
    purchases: int
    credits: int
    revenue: int  # smallest currency unit


def purchase_revenue_by_day(*, start: datetime.date, end: datetime.date) -> list[RevenueDay]:
    """Paid purchases per day (UTC) and currency: how many, credits sold, money taken."""
    since, until = day_range(start, end)
    rows = (
        CreditPurchase.objects.filter(status=CreditPurchase.Status.PAID, paid_at__gte=since, paid_at__lt=until)
        .annotate(day=TruncDay("paid_at"))
        .order_by()
        .values("day", "currency")
        .annotate(purchases=Count("id"), credits=Sum("credits"), revenue=Sum("price"))
        .order_by("day", "currency")
    )
    return [
        RevenueDay(
            day=row["day"].date(),
            currency=row["currency"],
            purchases=row["purchases"],
            credits=row["credits"],
            revenue=row["revenue"],
        )
        for row in rows
    ]


class ReferenceTotals(NamedTuple):
    spent: int
    refunded: int


def credit_totals_for_references(*, references: list[str]) -> ReferenceTotals:
    """Credits spent on, and refunded for, the given things ("avatar:<uuid>", "prompt:<id>")."""
    totals = CreditEntry.objects.filter(reference__in=references).aggregate(
        spent=Coalesce(Sum("amount", filter=Q(kind=EntryKind.SPEND)), Value(0)),
        refunded=Coalesce(Sum("amount", filter=Q(kind=EntryKind.REFUND)), Value(0)),
    )
    return ReferenceTotals(spent=-totals["spent"], refunded=totals["refunded"])

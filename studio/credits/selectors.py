"""Reads of credits: a user's own balance, ledger and purchases, and the operator's aggregates."""

import uuid
from datetime import date
from typing import NamedTuple

from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce

from accounts.models import User
from studio.core.days import day_range
from studio.credits.models import CreditEntry, CreditPool, CreditPurchase, EntryKind, Wallet

# Every page's header shows the balance: read by one statement written out, as building the same
# one through the ORM cost three times the whole lookup.
_BALANCE_SQL = "SELECT balance FROM credits_wallet WHERE user_id = %s"


def credit_balance(*, user: User) -> int:
    """The user's balance; 0 for a user without a wallet yet."""
    with connection.cursor() as cursor:
        cursor.execute(_BALANCE_SQL, [user.pk])
        row = cursor.fetchone()
    return row[0] if row else 0


def credit_pool_balance(*, pool: CreditPool) -> int:
    """A shared pool's balance."""
    return Wallet.objects.filter(pool=pool).values_list("balance", flat=True).first() or 0


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


def purchases_refused(*, start: date, end: date) -> QuerySet[CreditPurchase]:
    """Purchases whose payment was refused in the period and neither granted nor refunded since,
    latest first, with their buyer."""
    since, until = day_range(start, end)
    return (
        CreditPurchase.objects.filter(
            status=CreditPurchase.Status.REFUSED, refunded_amount=0, updated_at__gte=since, updated_at__lt=until
        )
        .select_related("user", "pool")
        .order_by("-updated_at", "pk")
    )


def purchases_reversed(*, start: date, end: date) -> QuerySet[CreditPurchase]:
    """Purchases whose payment was refunded or disputed at the provider in the period, latest
    first, with their buyer's (or pool's) wallet."""
    since, until = day_range(start, end)
    return (
        CreditPurchase.objects.filter(reversed_at__gte=since, reversed_at__lt=until)
        .select_related("user__wallet", "pool__wallet")
        .order_by("-reversed_at", "pk")
    )


def wallets_out_of_balance() -> QuerySet[Wallet]:
    """Every wallet whose balance differs from the sum of its ledger (should be none), in one query.

    Each row carries `balance` and `ledger_sum`, and its user (or pool).
    """

    def ledger_sum(owner: str):
        return (
            CreditEntry.objects.filter(**{owner: OuterRef(owner)})
            .order_by()
            .values(owner)
            .annotate(total=Sum("amount"))
            .values("total")
        )

    return (
        Wallet.objects.annotate(
            ledger_sum=Coalesce(Subquery(ledger_sum("user")), Subquery(ledger_sum("pool")), Value(0))
        )
        .exclude(balance=F("ledger_sum"))
        .select_related("user", "pool")
        .order_by("user__email", "pool__name")
    )


class ReferenceTotals(NamedTuple):
    spent: int
    refunded: int


def credit_totals_for_references(*, references: list[str], pooled: bool | None = None) -> ReferenceTotals:
    """Credits spent on, and refunded for, the given things ("avatar:<uuid>", "prompt:<id>"): by
    anyone, or only by shared pools (`pooled=True`) or only by users (`pooled=False`)."""
    entries = CreditEntry.objects.filter(reference__in=references)
    if pooled is not None:
        entries = entries.filter(pool__isnull=not pooled)
    totals = entries.aggregate(
        spent=Coalesce(Sum("amount", filter=Q(kind=EntryKind.SPEND)), Value(0)),
        refunded=Coalesce(Sum("amount", filter=Q(kind=EntryKind.REFUND)), Value(0)),
    )
    return ReferenceTotals(spent=-totals["spent"], refunded=totals["refunded"])

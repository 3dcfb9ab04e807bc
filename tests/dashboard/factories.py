"""Dated records for the dashboard: ledger entries, purchases, avatars and prompts on given days."""

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from studio.avatars.models import Avatar, AvatarState, Prompt, PromptState
from studio.credits.models import CreditEntry, CreditPurchase, PurchaseRefund, Wallet
from tests.avatars.factories import PromptFactory, dated_avatar
from tests.credits.factories import PurchaseFactory
from tests.factories import UserFactory

_serial = itertools.count()


def at(today: date, days_ago: int) -> datetime:
    """Noon that many days ago; today, its first instant (in the past, whatever the time now)."""
    return datetime.combine(today - timedelta(days=days_ago), time(12) if days_ago else time.min, tzinfo=UTC)


def ledger(user: User, today: date, *entries: tuple[str, int, int]) -> None:
    """Ledger entries (kind, amount, days ago) on their dates, and a wallet that matches them."""
    for kind, amount, days_ago in entries:
        key = f"test:{next(_serial)}"
        CreditEntry.objects.create(
            user=user, kind=kind, amount=amount, reason=kind, key=key, created_at=at(today, days_ago)
        )
    Wallet.objects.update_or_create(user=user, defaults={"balance": sum(amount for _, amount, _ in entries)})


def paid(user: User, today: date, cents: int, days_ago: int) -> CreditPurchase:
    return PurchaseFactory(user=user, price=cents, status=CreditPurchase.Status.PAID, paid_at=at(today, days_ago))


def refused(user: User, today: date, reason: str, days_ago: int) -> CreditPurchase:
    """A checkout Stripe took a payment for on other terms than its pack's, refused that day."""
    purchase = PurchaseFactory(user=user, status=CreditPurchase.Status.REFUSED, refusal=reason)
    CreditPurchase.objects.filter(pk=purchase.pk).update(updated_at=at(today, days_ago))
    return purchase


def reversed_at_stripe(purchase: CreditPurchase, today: date, days_ago: int, **fields) -> None:
    """A paid purchase refunded (refunded_amount=cents) or disputed (dispute_status=...) that day."""
    CreditPurchase.objects.filter(pk=purchase.pk).update(reversed_at=at(today, days_ago), **fields)


def refund(purchase: CreditPurchase, today: date, cents: int, days_ago: int) -> None:
    """Money refunded at Stripe for the purchase that day (its whole price's share)."""
    PurchaseRefund.objects.create(
        purchase=purchase, amount=cents, price_share=cents, currency=purchase.currency, refunded_at=at(today, days_ago)
    )


def avatar(user: User, today: date, state: str, *, created: int, **fields) -> Avatar:
    return dated_avatar(at=lambda days_ago: at(today, days_ago), user=user, state=state, created=created, **fields)


def prompts(avatar: Avatar, today: date, count: int, *, days_ago: int, state=PromptState.DONE, **fields) -> None:
    for _ in range(count):
        prompt = PromptFactory(avatar=avatar, state=state, **fields)
        finished = {"finished_at": at(today, days_ago)} if state in (PromptState.DONE, PromptState.FAILED) else {}
        Prompt.objects.filter(pk=prompt.pk).update(submitted_at=at(today, days_ago), **finished)


@dataclass
class Shop:
    today: date
    alice: User
    bob: User
    carol: User
    done: Avatar
    failed: Avatar
    training: Avatar
    queued: Avatar


def make_shop() -> Shop:
    """A small studio with hand-counted figures (see the tests): money, avatars, prompts and tunes
    today, yesterday, 10 days ago and 40 days ago."""
    today = timezone.localdate()
    alice, bob, carol = (UserFactory(email=f"{name}@example.test") for name in ("alice", "bob", "carol"))
    ledger(alice, today, ("grant", 8, 10), ("purchase", 50, 1), ("spend", -16, 1), ("refund", 3, 0))
    ledger(bob, today, ("grant", 8, 40), ("purchase", 20, 0), ("spend", -10, 0))
    Wallet.objects.create(user=carol, balance=5)  # no ledger at all: out of balance
    bought = paid(alice, today, 1200, 1)
    reversed_at_stripe(bought, today, 0, refunded_amount=600, dispute_status="needs_response")
    refund(bought, today, 600, 0)
    paid(bob, today, 600, 0)
    refund(paid(bob, today, 2400, 40), today, 1200, 35)
    PurchaseFactory(user=carol, price=2400)  # never paid
    refund(refused(carol, today, "it was paid in 'eur', not 'usd'", 0), today, 1200, 0)  # not in the revenue
    refused(bob, today, "its items cost $0.01, not the pack's price $12.00", 40)

    done = avatar(
        alice, today, AvatarState.DONE, created=1, queued=1, submitted=1, finished=0, branch="sd15", tune_id=1
    )
    prompts(done, today, 13, days_ago=1)
    prompts(done, today, 1, days_ago=0, state=PromptState.FAILED, failure_reason="Refused by the safety filter")
    failed = avatar(
        bob, today, AvatarState.FAILED, created=0, queued=0, submitted=0, finished=0, branch="sd15", tune_id=2,
        failure_reason="Training failed at Astria",
    )
    prompts(failed, today, 2, days_ago=0, state=PromptState.FAILED, failure_reason="Training failed at Astria")
    training = avatar(bob, today, AvatarState.TRAINING, created=0, queued=0, submitted=0, branch="fast", tune_id=3)
    queued = avatar(alice, today, AvatarState.QUEUED, created=10, queued=10, name="Stuck")
    avatar(alice, today, AvatarState.DRAFT, created=0)
    return Shop(today, alice, bob, carol, done, failed, training, queued)

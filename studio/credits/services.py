"""Every change to credits: ledger postings and wallets (purchases: `studio.credits.purchases`).

The rules that keep the money right:

- Every posting is one `CreditEntry` row with a unique `key` plus a conditional `F()` update of the
  wallet, in one transaction (a savepoint when the caller already has one open). The entry is
  inserted first, so a concurrent posting with the same key waits on the unique index and then
  finds the first one; a spend only succeeds while `balance >= amount` holds in the UPDATE itself.
- Posting the same key again changes nothing and raises nothing: `credit_grant`, `credit_spend`
  and `credit_adjust` return the entry that was posted first, `credit_refund` returns False.
  Reusing a key for a different user, kind or amount is a programming error (`ValueError`).
- All services can run inside the caller's `transaction.atomic()`: the avatar pipeline spends and
  creates its job in one transaction, so a failure later in that block undoes the spend too.
- `InsufficientCredits` (studio.core.exceptions) means nothing was spent.
- A posting with `pool` moves that shared pool's wallet instead of the user's (an organisation
  paying for a member's avatar): the line names the pool and no user. Refunds of what a pool paid
  for go back to the pool, by the same rule.
"""

import hashlib
import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.credits.models import CreditEntry, CreditPool, EntryKind, SignupGrantClaim, Wallet

logger = logging.getLogger(__name__)

KEY_MAX_LENGTH = CreditEntry._meta.get_field("key").max_length
REFERENCE_MAX_LENGTH = CreditEntry._meta.get_field("reference").max_length

__all__ = [
    "InsufficientCredits",
    "address_fingerprint",
    "address_normalise",
    "credit_adjust",
    "credit_grant",
    "credit_pool_create",
    "credit_reasons_neutralise",
    "credit_refund",
    "credit_signup_grant",
    "credit_spend",
    "wallet_get_or_create",
]


# --- Wallets and the ledger -------------------------------------------------------------------


def wallet_get_or_create(*, user: User) -> Wallet:
    """The user's wallet, created if missing; safe when several requests race to create it."""
    wallet = Wallet.objects.filter(user=user).first()
    if wallet is None:
        Wallet.objects.bulk_create([Wallet(user=user)], ignore_conflicts=True)  # ON CONFLICT DO NOTHING
        wallet = Wallet.objects.get(user=user)
    return wallet


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"A credit amount must be a positive whole number, not {amount!r}.")


def _check_text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ApplicationError(f"Please give a {what}.")
    return value


def credit_pool_create(*, name: str) -> CreditPool:
    """A new shared pool with its (empty) wallet."""
    pool = CreditPool.objects.create(name=_check_text(name, "name")[:100])
    Wallet.objects.create(pool=pool)
    return pool


def credit_pool_rename(*, pool_id, name: str) -> None:
    """The name the pool goes by on the pages and in the ledger (its organisation's new name)."""
    CreditPool.objects.filter(pk=pool_id).update(name=_check_text(name, "name")[:100], updated_at=timezone.now())


def _owner(user: User | None, pool: CreditPool | None) -> dict:
    """Whose ledger and wallet a posting moves: the pool's when one is given, else the user's."""
    return {"user": None, "pool": pool} if pool is not None else {"user": user, "pool": None}


def _wallet_apply(*, owner: dict, delta: int) -> None:
    """Moves the balance by delta with one conditional UPDATE; never below zero."""
    now = timezone.now()
    wallets = Wallet.objects.filter(**{key: value for key, value in owner.items() if value is not None})
    if delta < 0:
        moved = wallets.filter(balance__gte=-delta).update(balance=F("balance") + delta, updated_at=now)
        if not moved:
            balance = wallets.values_list("balance", flat=True).first() or 0
            raise InsufficientCredits(amount=-delta, balance=balance)
        return
    moved = wallets.update(balance=F("balance") + delta, updated_at=now)
    if not moved:
        Wallet.objects.bulk_create([Wallet(**owner)], ignore_conflicts=True)
        wallets.update(balance=F("balance") + delta, updated_at=now)


def _same_posting(entry: CreditEntry, *, owner: dict, kind: str, amount: int) -> CreditEntry:
    user, pool = owner["user"], owner["pool"]
    wanted = (user.pk if user else None, pool.pk if pool else None, kind, amount)
    if (entry.user_id, entry.pool_id, entry.kind, entry.amount) != wanted:
        raise ValueError(
            f"Ledger key {entry.key!r} was already used for {entry.amount:+d} {entry.kind} "
            f"of user {entry.user_id} / pool {entry.pool_id}; it cannot be reused for {amount:+d} {kind} "
            f"of user {wanted[0]} / pool {wanted[1]}."
        )
    return entry


def _post(
    *,
    user: User | None,
    kind: str,
    amount: int,
    key: str,
    reason: str,
    reference: str = "",
    created_by: User | None = None,
    pool: CreditPool | None = None,
) -> tuple[CreditEntry, bool]:
    """Inserts one ledger entry and moves the wallet (the user's, or the pool's) with it.
    Returns (entry, created)."""
    owner = _owner(user, pool)
    key = _check_text(key, "ledger key")
    reason = _check_text(reason, "reason")
    if len(key) > KEY_MAX_LENGTH or len(reference) > REFERENCE_MAX_LENGTH:
        raise ValueError(f"Ledger keys have at most {KEY_MAX_LENGTH} characters, references {REFERENCE_MAX_LENGTH}.")
    existing = CreditEntry.objects.filter(key=key).first()
    if existing is not None:
        return _same_posting(existing, owner=owner, kind=kind, amount=amount), False
    try:
        with transaction.atomic():
            entry = CreditEntry.objects.create(
                **owner,
                kind=kind,
                amount=amount,
                key=key,
                reason=reason[:200],
                reference=reference,
                created_by=created_by,
            )
            _wallet_apply(owner=owner, delta=amount)
    except IntegrityError:
        # A concurrent posting with this key committed first. Our savepoint (the entry and the
        # wallet change) is rolled back; the first posting stands.
        existing = CreditEntry.objects.filter(key=key).first()
        if existing is None:
            raise
        return _same_posting(existing, owner=owner, kind=kind, amount=amount), False
    return entry, True


def credit_grant(
    *,
    user: User,
    amount: int,
    key: str,
    reason: str,
    reference: str = "",
    kind: str = EntryKind.GRANT,
    created_by: User | None = None,
    pool: CreditPool | None = None,
) -> CreditEntry:
    """Adds credits (a free grant or a purchase) to the user, or to the pool when given. The same
    key again returns the first entry."""
    _check_amount(amount)
    if kind not in (EntryKind.GRANT, EntryKind.PURCHASE):
        raise ValueError(f"credit_grant posts grants and purchases, not {kind!r}.")
    entry, _ = _post(
        user=user, kind=kind, amount=amount, key=key, reason=reason, reference=reference, created_by=created_by,
        pool=pool,
    )
    return entry


def credit_spend(
    *, user: User, amount: int, key: str, reason: str, reference: str = "", pool: CreditPool | None = None
) -> CreditEntry:
    """Spends the user's credits (the pool's, when given) or raises InsufficientCredits, spending
    nothing.

    Idempotent per key: the same key again returns the first spend and neither spends nor raises,
    even if the balance is now too low. Call it inside the transaction that creates what it pays
    for, so both commit or neither does.
    """
    _check_amount(amount)
    entry, _ = _post(
        user=user, kind=EntryKind.SPEND, amount=-amount, key=key, reason=reason, reference=reference, pool=pool
    )
    return entry


def credit_refund(
    *, user: User, amount: int, key: str, reason: str, reference: str = "", pool: CreditPool | None = None
) -> bool:
    """Gives credits back to the user (to the pool, when it paid), exactly once per key. True if
    this call refunded, False if it was done."""
    _check_amount(amount)
    _, created = _post(
        user=user, kind=EntryKind.REFUND, amount=amount, key=key, reason=reason, reference=reference, pool=pool
    )
    return created


def credit_adjust(
    *, user: User | None = None, pool: CreditPool | None = None, amount: int, reason: str, staff_user: User,
    key: str = "", reference: str = "",
) -> CreditEntry:
    """A staff correction of a user's credits (or a shared pool's), positive or negative, with a
    reason its history shows, and what it is about (`reference`, "purchase:<id>" say).

    A negative amount larger than the balance raises InsufficientCredits. Pass a key (for example
    one per submitted admin form) to make a repeated submission change nothing.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValueError(f"An adjustment must be a non-zero whole number, not {amount!r}.")
    if (user is None) == (pool is None):
        raise ValueError("An adjustment is for one user or one pool.")
    if not staff_user.is_staff:
        raise ApplicationError("Only staff can adjust credits.")
    entry, _ = _post(
        user=user,
        pool=pool,
        kind=EntryKind.ADJUSTMENT,
        amount=amount,
        key=key or f"adjust:{uuid.uuid4()}",
        reason=reason,
        reference=reference,
        created_by=staff_user,
    )
    return entry


# What a ledger line says once what it paid for is deleted: amounts, keys and references stay.
NEUTRAL_REASONS = {
    EntryKind.PURCHASE: "Bought credits",
    EntryKind.GRANT: "Free credits",
    EntryKind.SPEND: "Spent on an avatar (deleted)",
    EntryKind.REFUND: "Refund for an avatar (deleted)",
    EntryKind.ADJUSTMENT: "Changed by support",
}


def credit_reasons_neutralise(*, user: User, references: list[str] | None = None) -> int:
    """Rewrites the reasons of the user's ledger lines (only those with these references, when
    given) to words that name nothing of theirs; the only change the ledger allows. Returns how
    many lines changed."""
    entries = CreditEntry.objects.filter(user=user)
    if references is not None:
        # A pool's lines for the same things (a member's avatar it paid for) name them too.
        entries = CreditEntry.objects.filter(Q(user=user) | Q(pool__isnull=False), reference__in=references)
    changed = 0
    for kind, text in NEUTRAL_REASONS.items():
        changed += entries.filter(kind=kind).exclude(reason=text).update(reason=text)
    return changed


GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def address_normalise(email: str) -> str:
    """The mailbox behind an address: lower case, without a `+tag`, and for Gmail without dots in
    the name and with googlemail.com as gmail.com (Carol+2@GoogleMail.com is carol@gmail.com)."""
    name, _, domain = email.strip().lower().rpartition("@")
    name = name.split("+", 1)[0]
    domain = domain.rstrip(".")
    if domain in GMAIL_DOMAINS:
        name, domain = name.replace(".", ""), "gmail.com"
    return f"{name}@{domain}"


def address_fingerprint(email: str) -> str:
    """What a welcome-credits claim stores: SHA-256 of the normalised address.

    Deliberately not keyed: a claim must outlive every SECRET_KEY rotation, restore and move, and a
    separate key that must never change or leak would guard little, since knowing the address is
    all it takes to test it. Never change this: every stored claim depends on it.
    """
    return hashlib.sha256(f"avatar-studio:signup:{address_normalise(email)}".encode()).hexdigest()


def _signup_claim(*, email: str) -> bool:
    """Claims the welcome credits for the person behind the address; False if already claimed.

    Two sign-ups racing for one person insert the same unique hash: the second waits for the
    first to commit and then finds it taken (or claims it, if the first rolled back)."""
    try:
        with transaction.atomic():
            SignupGrantClaim.objects.create(address_hash=address_fingerprint(email))
    except IntegrityError:
        return False
    return True


def credit_signup_grant(*, user: User) -> CreditEntry | None:
    """The welcome credits of a new account (settings.CREDITS_SIGNUP_GRANT), once per person.

    A person is their normalised address, remembered after the account is deleted: another
    sign-up with a variant of it (case, `+tag`, Gmail dots) or after deleting the account starts
    with no free credits. Returns the grant, or None when there is none.
    """
    wallet_get_or_create(user=user)
    if settings.CREDITS_SIGNUP_GRANT <= 0:
        return None
    key = f"signup:{user.pk}"
    if not _signup_claim(email=user.email):
        return CreditEntry.objects.filter(key=key).first()  # this account's own grant, if it has one
    return credit_grant(user=user, amount=settings.CREDITS_SIGNUP_GRANT, key=key, reason="Welcome credits")

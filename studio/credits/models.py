import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.core.models import BaseModel
from studio.core.schema import unique_exact
from studio.credits.packs import money


class EntryKind(models.TextChoices):
    PURCHASE = "purchase", "Purchase"
    GRANT = "grant", "Grant"
    SPEND = "spend", "Spend"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"


class CreditPool(BaseModel):
    """A shared wallet that is nobody's own: an organisation's credits for its members' avatars.

    Its postings are ledger lines like a user's (`CreditEntry.pool`), in the same ledger.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, help_text="What owns it, as the ledger names it.")

    def __str__(self) -> str:
        return self.name


# Every ledger line and wallet belongs to exactly one user or one pool.
ONE_OWNER = Q(user__isnull=False, pool__isnull=True) | Q(user__isnull=True, pool__isnull=False)


class CreditEntry(models.Model):
    """One line of the append-only credit ledger.

    Rows are only ever inserted: corrections are new rows. On PostgreSQL a trigger rejects UPDATE
    and DELETE (migration 0002), except an UPDATE of `reason` alone (migration 0004): deleting an
    avatar or an account rewrites the reasons that named it. `key` makes every posting idempotent:
    "spend:avatar:<uuid>", "refund:avatar:<uuid>", "purchase:<uuid>", "signup:<user id>".
    """

    Kind = EntryKind

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries"
    )
    pool = models.ForeignKey(
        CreditPool, on_delete=models.PROTECT, null=True, blank=True, related_name="entries",
        help_text="The shared pool whose credits moved (then there is no user).",
    )
    kind = models.CharField(max_length=12, choices=EntryKind)
    amount = models.IntegerField(help_text="Signed: positive adds credits, negative removes them.")
    reason = models.CharField(max_length=200, help_text="Shown to the user in their credit history.")
    key = models.CharField(max_length=200)
    reference = models.CharField(
        max_length=120, blank=True, db_index=True, help_text='What it paid for, e.g. "avatar:<uuid>".'
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who made a manual change.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="credit_entry_user_time"),
            models.Index(fields=["pool", "created_at"], name="credit_entry_pool_time"),
        ]
        constraints = [
            unique_exact("credits_creditentry", "key"),
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="credit_entry_kind_valid"),
            models.CheckConstraint(condition=ONE_OWNER, name="credit_entry_one_owner"),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=[EntryKind.PURCHASE, EntryKind.GRANT, EntryKind.REFUND], amount__gt=0)
                    | Q(kind=EntryKind.SPEND, amount__lt=0)
                    | (Q(kind=EntryKind.ADJUSTMENT) & ~Q(amount=0))
                ),
                name="credit_entry_amount_sign",
            ),
        ]

    def __str__(self) -> str:
        owner = f"pool {self.pool_id}" if self.pool_id else self.user_id
        return f"{self.amount:+d} {self.kind} for {owner} ({self.key})"

    @property
    def kind_in_words(self) -> str:
        """What the entry was, for the user's own history."""
        return {
            EntryKind.PURCHASE: "Bought",
            EntryKind.GRANT: "Free credits",
            EntryKind.SPEND: "Spent",
            EntryKind.REFUND: "Refunded",
            EntryKind.ADJUSTMENT: "Changed by support",
        }.get(self.kind, self.get_kind_display())

    @property
    def amount_display(self) -> str:
        """+50, or -16 written with a typographic minus sign (U+2212)."""
        return f"+{self.amount}" if self.amount > 0 else f"\u2212{-self.amount}"


class Wallet(models.Model):
    """The cached balance of one user's (or pool's) ledger, changed only by conditional F() updates."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="wallet"
    )
    pool = models.OneToOneField(CreditPool, on_delete=models.PROTECT, null=True, blank=True, related_name="wallet")
    balance = models.IntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_not_negative"),
            models.CheckConstraint(condition=ONE_OWNER, name="wallet_one_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.pool or self.user} ({self.balance})"

    @property
    def owner_name(self) -> str:
        return f"Pool: {self.pool.name}" if self.pool_id else self.user.email


class PurchaseStatus(models.TextChoices):
    PENDING = "pending", "Not completed"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"  # the customer left the checkout; a later payment still completes it
    # Stripe took a payment for its checkout on other terms than the pack's (another price or
    # currency): nothing granted until staff look at it (`refusal` says why).
    REFUSED = "refused", "Paid, under review"


# Stripe's dispute statuses that need words (warning_*: an inquiry, which may turn into a dispute).
DISPUTE_WORDS = {
    "warning_needs_response": "inquiry, needs a response",
    "warning_under_review": "inquiry under review",
    "warning_closed": "inquiry closed",
    "needs_response": "needs a response",
    "under_review": "under review",
}


class PaymentProvider(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    TEST = "test", "Test checkout"


class CreditPurchase(BaseModel):
    """One checkout of a credit pack. Its credits are granted once, under the key purchase:<id>."""

    Status = PurchaseStatus
    Provider = PaymentProvider

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_purchases")
    pool = models.ForeignKey(
        CreditPool, on_delete=models.PROTECT, null=True, blank=True, related_name="purchases",
        help_text="Bought by the user for this shared pool, which gets the credits.",
    )
    pack_slug = models.SlugField(max_length=40)
    pack_name = models.CharField(max_length=60)
    credits = models.PositiveIntegerField()
    price = models.PositiveIntegerField(help_text="In the currency's smallest unit (cents).")
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=10, choices=PaymentProvider)
    provider_session_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=PurchaseStatus, default=PurchaseStatus.PENDING)
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)  # revenue by day
    paid_event_id = models.CharField(max_length=255, blank=True, help_text="The payment event that paid it.")
    refusal = models.CharField(
        max_length=300, blank=True, help_text="Why a payment taken for it was not accepted as paying for the pack."
    )
    amount_paid = models.PositiveIntegerField(
        null=True, blank=True, help_text="What the buyer paid at the provider, tax included, in cents."
    )
    payment_intent_id = models.CharField(
        max_length=255, blank=True, help_text="Stripe's PaymentIntent that paid it, which refunds and disputes name."
    )
    refunded_amount = models.PositiveIntegerField(
        default=0, help_text="Refunded at the provider so far, in the currency's smallest unit (cents)."
    )
    dispute_status = models.CharField(
        max_length=30, blank=True, help_text="The provider's status of a dispute (chargeback) of its payment."
    )
    reversed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a refund or a dispute at the provider last changed it."
    )
    taken_back = models.PositiveIntegerField(
        default=0, help_text="Credits staff took back from its wallet for a refund or a lost dispute."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["updated_at"], condition=Q(status=PurchaseStatus.REFUSED), name="purchase_refused_time"
            ),
            models.Index(fields=["reversed_at"], condition=Q(reversed_at__isnull=False), name="purchase_reversed_time"),
            models.Index(
                fields=["payment_intent_id"], condition=~Q(payment_intent_id=""), name="purchase_payment_intent"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PurchaseStatus.values), name="purchase_status_valid"),
            models.CheckConstraint(condition=Q(provider__in=PaymentProvider.values), name="purchase_provider_valid"),
            models.CheckConstraint(condition=Q(credits__gt=0), name="purchase_credits_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_session_id"],
                condition=~Q(provider_session_id=""),
                name="purchase_provider_session_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credits} credits for {self.user} ({self.status})"

    @property
    def price_display(self) -> str:
        return money(self.price, self.currency)

    @property
    def is_paid(self) -> bool:
        return self.status == PurchaseStatus.PAID

    @property
    def ledger_key(self) -> str:
        return f"purchase:{self.pk}"

    @property
    def amount_charged(self) -> int:
        """What the buyer paid, tax included: the pack's price where the provider told nothing else."""
        return self.amount_paid if self.amount_paid is not None else self.price

    @property
    def paid_display(self) -> str:
        """What the buyer paid: the pack's price, or with the tax Stripe added on top."""
        return money(self.amount_charged, self.currency)

    @property
    def tax_added(self) -> bool:
        return self.amount_paid is not None and self.amount_paid > self.price

    @property
    def refunded_display(self) -> str:
        return money(self.refunded_amount, self.currency)

    @property
    def credits_reversed(self) -> int:
        """The pack's credits that the money refunded, or lost in a dispute, had paid for: in
        proportion to what the buyer paid (tax included), rounded down."""
        paid = self.amount_charged
        if self.status != PurchaseStatus.PAID or paid <= 0:
            return 0  # a refused payment granted nothing; a free one took no money
        reversed_money = paid if self.dispute_status == "lost" else min(self.refunded_amount, paid)
        return self.credits * reversed_money // paid

    def price_share(self, refunded: int) -> int:
        """The part of the pack's price (tax left out) that `refunded` (tax included) gives back."""
        paid = self.amount_charged
        return min(refunded, paid) * self.price // paid if paid > 0 else 0

    @property
    def take_back_due(self) -> int:
        return max(0, self.credits_reversed - self.taken_back)

    @property
    def dispute_display(self) -> str:
        """Stripe's dispute status in words ("needs a response")."""
        return DISPUTE_WORDS.get(self.dispute_status, self.dispute_status.replace("_", " "))

    @property
    def reversal_display(self) -> str:
        """What happened at the provider since the payment, for staff: "$6.00 refunded · dispute
        needs a response"; empty when nothing did."""
        parts = [f"{self.refunded_display} refunded"] if self.refunded_amount else []
        if self.dispute_status:
            parts.append(f"dispute {self.dispute_display}")
        return " · ".join(parts)


class PurchaseRefund(models.Model):
    """Money the provider refunded for a purchase, recorded as each refund arrives, so the dashboard
    counts it on its day. `amount` as refunded (tax included, as Stripe reports it); `price_share`,
    the part of the pack's price it gives back, tax left out, as the revenue counts the price."""

    purchase = models.ForeignKey(CreditPurchase, on_delete=models.CASCADE, related_name="refunds")
    amount = models.PositiveIntegerField(help_text="In the currency's smallest unit (cents), tax included.")
    price_share = models.PositiveIntegerField(help_text="The part of the pack's price it gives back, in cents.")
    currency = models.CharField(max_length=3)
    refunded_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-refunded_at"]

    def __str__(self) -> str:
        return f"{money(self.amount, self.currency)} refunded for purchase {self.purchase_id}"


class SignupGrantClaim(models.Model):
    """The welcome credits, claimed once per person: a hash of their normalised address
    (services.address_fingerprint). It points at no account, so deleting one frees nothing."""

    address_hash = models.CharField(max_length=64)
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [unique_exact("credits_signupgrantclaim", "address_hash")]

    def __str__(self) -> str:
        return self.address_hash


class PaymentEvent(models.Model):
    """Every payment provider event we accepted, recorded once by its id."""

    provider = models.CharField(max_length=10, choices=PaymentProvider)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="payment_event_unique")]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"

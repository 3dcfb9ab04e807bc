import uuid
from typing import NamedTuple

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Model, Q, QuerySet, Sum
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.models import User
from studio.core.admin import IndexedSearchAdmin
from studio.core.exceptions import InsufficientCredits
from studio.credits.forms import CreditAdjustForm
from studio.credits.models import CreditEntry, CreditPool, CreditPurchase, PaymentEvent, Wallet
from studio.credits.purchases import purchase_grant_refused
from studio.credits.reversals import purchase_take_back
from studio.credits.services import credit_adjust

WALLET_LEDGER_ROWS = 50


def _is_uuid(term: str) -> bool:
    try:
        uuid.UUID(term)
    except ValueError:
        return False
    return True


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of money: staff can look, nobody can add, edit or delete them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def may_adjust_credits(request: HttpRequest) -> bool:
    """Whether the staff member may change balances: grant, adjust, accept a refused payment or take
    back a refunded one."""
    return request.user.is_active and request.user.is_staff and request.user.has_perm("credits.add_creditentry")


class Holder(NamedTuple):
    """Whose credits an adjustment changes: a user, or a shared pool (then `user` is None)."""

    name: str
    user: User | None
    pool: CreditPool | None
    key: str  # what tells its adjustment apart from the others' of the same form
    logged: Model  # the admin's history of changes records it on this object


def _holders_of(queryset: QuerySet) -> list[Holder]:
    if queryset.model is not Wallet:
        return [Holder(user.email, user, None, str(user.pk), user) for user in queryset.order_by("email")]
    holders = [
        Holder(wallet.owner_name, None, wallet.pool, f"pool:{wallet.pool_id}", wallet) if wallet.pool_id
        else Holder(wallet.user.email, wallet.user, None, str(wallet.user_id), wallet.user)
        for wallet in queryset.select_related("user", "pool")
    ]
    return sorted(holders, key=lambda holder: (holder.pool is not None, holder.name))  # users first


@admin.action(description="Grant or adjust credits", permissions=["adjust_credits"])
def grant_or_adjust_credits(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
    """Asks for an amount and a reason, then posts one adjustment per selected user or pool."""
    holders = _holders_of(queryset)
    form = CreditAdjustForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        amount, reason, token = (form.cleaned_data[name] for name in ("amount", "reason", "token"))
        keys = {holder: f"adjust:{token}:{holder.key}" for holder in holders}
        already = set(CreditEntry.objects.filter(key__in=keys.values()).values_list("key", flat=True))
        done, refused = [], []
        for holder in holders:
            if keys[holder] in already:
                continue
            try:
                credit_adjust(
                    user=holder.user, pool=holder.pool, amount=amount, reason=reason, staff_user=request.user,
                    key=keys[holder],
                )
            except InsufficientCredits as error:
                refused.append(f"{holder.name}: {error.message}")
            else:
                done.append(holder.name)
                modeladmin.log_change(request, holder.logged, f"Credits adjusted by {amount:+d}.")
        if done:
            verb = f"Added {amount}" if amount > 0 else f"Removed {-amount}"
            modeladmin.message_user(
                request, f"{verb} credit{'s' if abs(amount) != 1 else ''} for {', '.join(done)}.", messages.SUCCESS
            )
        if refused:
            modeladmin.message_user(request, "Not changed: " + "; ".join(refused), messages.ERROR)
        if already:
            modeladmin.message_user(request, "This form was already applied; nothing changed twice.", messages.WARNING)
        return None
    return TemplateResponse(
        request,
        "admin/credits/adjust_credits.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Grant or adjust credits",
            "opts": modeladmin.model._meta,
            "form": form,
            "holders": holders,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "grant_or_adjust_credits",
        },
        status=422 if form.is_bound else 200,
    )


class CreditAdjustAdminMixin:
    """Adds the "Grant or adjust credits" action to a model admin of users or wallets (a team pool's
    included)."""

    actions = [grant_or_adjust_credits]

    def has_adjust_credits_permission(self, request: HttpRequest) -> bool:
        return may_adjust_credits(request)


@admin.register(CreditEntry)
class CreditEntryAdmin(IndexedSearchAdmin, ReadOnlyAdmin):
    list_display = ["created_at", "user", "pool", "kind", "amount", "reason", "reference", "created_by"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["user", "pool", "created_by"]
    email_field, id_fields, text_fields = "user__email", ("id",), ("reason",)
    search_help_text = (
        'A user\'s whole email address, an entry\'s id, a key or reference ("avatar:<id>"), or words of the reason.'
    )
    date_hierarchy = "created_at"

    def term_filter(self, term: str) -> Q:
        if ":" in term:  # "avatar:<uuid>", "spend:avatar:<uuid>", "purchase:<uuid>": exact, indexed
            return Q(key=term) | Q(reference=term)
        return super().term_filter(term)


def _ledger_of(wallet: Wallet) -> QuerySet[CreditEntry]:
    owner = {"pool_id": wallet.pool_id} if wallet.pool_id else {"user_id": wallet.user_id}
    return CreditEntry.objects.filter(**owner)


@admin.register(Wallet)
class WalletAdmin(CreditAdjustAdminMixin, IndexedSearchAdmin, ReadOnlyAdmin):
    list_display = ["owner", "balance", "updated_at"]
    list_select_related = ["user", "pool"]
    email_field, text_fields = "user__email", ("user__email",)
    search_help_text = "A whole email address, or a part of one."
    fields = ["user", "pool", "balance", "ledger_sum", "updated_at", "ledger"]
    readonly_fields = fields

    @admin.display(description="Whose", ordering="user__email")
    def owner(self, wallet: Wallet) -> str:
        return wallet.owner_name

    @admin.display(description="Sum of the ledger")
    def ledger_sum(self, wallet: Wallet) -> str:
        total = _ledger_of(wallet).aggregate(total=Sum("amount"))["total"] or 0
        verdict = "equals the balance" if total == wallet.balance else "DIFFERS from the balance"
        return f"{total} ({verdict})"

    @admin.display(description="Ledger (newest first)")
    def ledger(self, wallet: Wallet) -> str:
        entries = _ledger_of(wallet).select_related("created_by")[:WALLET_LEDGER_ROWS]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.created_at.strftime("%Y-%m-%d %H:%M"),
                    entry.get_kind_display(),
                    entry.amount_display,
                    entry.reason,
                    entry.reference or "-",
                    entry.created_by or "",
                )
                for entry in entries
            ),
        )
        owner = f"pool__id__exact={wallet.pool_id}" if wallet.pool_id else f"user__id__exact={wallet.user_id}"
        url = reverse("admin:credits_creditentry_changelist") + f"?{owner}"
        return format_html(
            '<table class="wallet-ledger"><thead><tr><th>When</th><th>Kind</th><th>Credits</th><th>Reason</th>'
            "<th>Reference</th><th>By</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">All its ledger entries</a></p>',
            rows,
            url,
        )


@admin.action(description="Grant the credits of refused payments", permissions=["adjust_credits"])
def grant_refused_payments(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
    """After a look at Stripe: accepts each selected refused payment as paying for its pack."""
    granted = [
        purchase for purchase in queryset.filter(status=CreditPurchase.Status.REFUSED).select_related("user")
        if purchase_grant_refused(purchase_id=purchase.pk, staff=request.user)
    ]
    if granted:
        names = ", ".join(f"{purchase.credits} to {purchase.user.email}" for purchase in granted)
        modeladmin.message_user(request, f"Credits granted: {names}.", messages.SUCCESS)
    if skipped := queryset.count() - len(granted):
        these = "purchases" if skipped > 1 else "purchase"
        them = "them" if skipped > 1 else "it"
        modeladmin.message_user(
            request, f"{skipped} selected {these} not refused: nothing granted for {them}.", messages.WARNING
        )


@admin.action(description="Take back the credits of refunds and lost disputes", permissions=["adjust_credits"])
def take_back_reversed_payments(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
    """Once staff decided to: takes back from each selected purchase's wallet the credits its
    refund or lost dispute paid for, as many as the wallet still holds."""
    taken, short, empty, failed, nothing = [], [], [], [], 0
    for purchase in queryset.select_related("user", "pool").order_by("created_at"):
        whose = f"the {purchase.pool.name} pool" if purchase.pool_id else purchase.user.email
        try:
            result = purchase_take_back(purchase_id=purchase.pk, staff=request.user)
        except InsufficientCredits:
            failed.append(whose)
            continue
        if result.taken:
            modeladmin.log_change(request, purchase, f"{result.taken} credits taken back.")
        if not result.due:
            nothing += 1
        elif result.taken == result.due:
            taken.append(f"{result.taken} from {whose}")
        elif result.taken:
            short.append(f"{result.taken} of {result.due} from {whose}")
        else:
            empty.append(f"{result.due} from {whose}")
    report = [
        (taken, messages.SUCCESS, "Credits taken back (each buyer is told by email): {}."),
        (short, messages.WARNING, "The wallet held fewer credits than were due; taken back (each buyer is told by "
                                  "email): {}."),
        (empty, messages.WARNING, "Nothing taken back, the wallet is empty; still due: {}."),
        (failed, messages.ERROR, "Not changed, the balance moved meanwhile (try again): {}."),
    ]
    for names, level, text in report:
        if names:
            modeladmin.message_user(request, text.format("; ".join(names)), level)
    if nothing:
        these = "purchases have" if nothing > 1 else "purchase has"
        modeladmin.message_user(
            request, f"{nothing} selected {these} no credits to take back: not refunded, dispute not lost, "
            "or taken back already.", messages.INFO,
        )


class ReversedFilter(admin.SimpleListFilter):
    title = "refunds and disputes"
    parameter_name = "reversed"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Refunded or disputed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(reversed_at__isnull=False) if self.value() == "yes" else queryset


@admin.register(CreditPurchase)
class CreditPurchaseAdmin(IndexedSearchAdmin, ReadOnlyAdmin):
    list_display = ["created_at", "user", "pack", "price_shown", "provider", "status_display", "paid_at"]
    actions = [grant_refused_payments, take_back_reversed_payments]
    list_filter = ["status", ReversedFilter, "provider", "pack_slug"]
    list_select_related = ["user"]
    ordering = ["-created_at"]
    email_field, id_fields = "user__email", ("id",)
    search_help_text = "A buyer's whole email address, a purchase's id, or a payment session or event id."

    def term_filter(self, term: str) -> Q:
        if "@" not in term and not _is_uuid(term):
            return Q(provider_session_id=term) | Q(paid_event_id=term)
        return super().term_filter(term)
    date_hierarchy = "created_at"

    def has_adjust_credits_permission(self, request: HttpRequest) -> bool:
        return may_adjust_credits(request)

    @admin.display(description="Pack (credits)", ordering="pack_slug")
    def pack(self, purchase: CreditPurchase) -> str:
        return f"{purchase.pack_name} ({purchase.credits})"

    @admin.display(description="Price", ordering="price")
    def price_shown(self, purchase: CreditPurchase) -> str:
        return purchase.price_display

    @admin.display(description="Status", ordering="status")
    def status_display(self, purchase: CreditPurchase) -> str:
        """The status, and what happened at Stripe since: a refund, a dispute, the credits taken back."""
        parts = [purchase.get_status_display(), purchase.reversal_display]
        if purchase.taken_back:
            parts.append(f"{purchase.taken_back} credits taken back")
        return " · ".join(part for part in parts if part)


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "type", "event_id"]
    list_filter = ["provider", "type"]
    search_fields = ["=event_id"]
    date_hierarchy = "received_at"

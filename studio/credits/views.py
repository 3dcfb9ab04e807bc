import uuid
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect

from studio.core.htmx import HtmxRequest, wants_fragment
from studio.core.ratelimit import rate_limit
from studio.credits import purchases, selectors
from studio.credits.exceptions import CheckoutUnavailable, PackNotOnSale
from studio.credits.forms import PackForm
from studio.credits.models import CreditPurchase
from studio.credits.packs import credit_packs, price_story

ENTRIES_PER_PAGE = 25
PURCHASE_QUICK_POLLING = timedelta(minutes=10)


def _get_purchase_or_404(request: HtmxRequest, purchase_id: uuid.UUID) -> CreditPurchase:
    try:
        return selectors.purchase_get_for_user(user=request.user, purchase_id=purchase_id)
    except CreditPurchase.DoesNotExist:
        raise Http404("No such purchase.") from None


RETURN_TO = "credits_return_to"  # where the customer was before buying (the session key)


def _safe_next(request: HtmxRequest, value: str) -> str:
    """`next` when it is a path on this site, otherwise nothing."""
    if value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return value
    return ""


def _return_to(request: HtmxRequest) -> str:
    return _safe_next(request, request.session.get(RETURN_TO, ""))


def _buy_context(form: PackForm, error: str = "", next_url: str = "") -> dict:
    return {
        "next": next_url,
        "form": form,
        "error": error,
        "packs": credit_packs(),
        "prices": price_story(),
        "test_mode": purchases.uses_test_checkout(),
        "purchases_open": purchases.purchases_open(),
    }


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("purchase")
def credit_buy(request: HtmxRequest) -> HttpResponse:
    form = PackForm(request.POST or None)
    next_url = _safe_next(request, (request.POST if request.method == "POST" else request.GET).get("next", ""))
    if request.method == "GET":
        return render(request, "credits/buy.html", _buy_context(form, next_url=next_url))
    if not form.is_valid():
        return render(request, "credits/buy.html", _buy_context(form, form.errors["pack"][0], next_url), status=422)
    try:
        url = purchases.purchase_start(user=request.user, pack_slug=form.cleaned_data["pack"])
    except PackNotOnSale as error:
        return render(request, "credits/buy.html", _buy_context(form, error.message, next_url), status=422)
    except CheckoutUnavailable as error:
        return render(request, "credits/buy.html", _buy_context(form, error.message, next_url), status=503)
    # After paying (or cancelling), the purchase page offers the way back to where this began.
    if next_url:
        request.session[RETURN_TO] = next_url
    else:
        request.session.pop(RETURN_TO, None)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_GET
def credit_history(request: HtmxRequest) -> HttpResponse:
    entries = Paginator(selectors.credit_entries_for_user(user=request.user), ENTRIES_PER_PAGE)
    context = {"entries": entries.get_page(request.GET.get("page"))}
    if wants_fragment(request):
        return render(request, "credits/history.html#entries", context)
    context |= {
        "balance": selectors.credit_balance(user=request.user),
        "purchases": selectors.purchase_list_for_user(user=request.user)[:50],
        "prices": price_story(),
    }
    return render(request, "credits/history.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("purchase")
def purchase_checkout(request: HtmxRequest, purchase_id: uuid.UUID) -> HttpResponse:
    """The local test checkout; it exists only without a Stripe key, where it is allowed."""
    purchase = _get_purchase_or_404(request, purchase_id)
    if not purchases.uses_test_checkout() or purchase.provider != CreditPurchase.Provider.TEST:
        raise Http404("No test checkout here.")
    if purchase.is_paid:
        return redirect("credits:purchase", purchase_id=purchase.pk)
    if request.method == "POST":
        purchases.purchase_pay_test(user=request.user, purchase_id=purchase.pk)
        return redirect("credits:purchase", purchase_id=purchase.pk)
    return render(request, "credits/checkout.html", {"purchase": purchase})


@login_required
@require_GET
def purchase_detail(request: HtmxRequest, purchase_id: uuid.UUID) -> HttpResponse:
    """Where checkouts return: paid, or waiting for the payment confirmation (polled)."""
    purchase = _get_purchase_or_404(request, purchase_id)
    # Card payments are confirmed within seconds; slower ones (bank debits) may take days, and a
    # page left open then asks once a minute.
    waiting_long = timezone.now() - purchase.created_at > PURCHASE_QUICK_POLLING
    context = {
        "purchase": purchase,
        "waiting_long": waiting_long,
        "poll_seconds": 60 if waiting_long else 2,
        "return_to": _return_to(request),
    }
    if wants_fragment(request):
        response = render(request, "credits/purchase.html#status", {**context, "fragment": True})
        if purchase.status != CreditPurchase.Status.PENDING:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "credits/purchase.html", context)


@login_required
@require_GET
def purchase_cancelled(request: HtmxRequest, purchase_id: uuid.UUID) -> HttpResponse:
    purchase = _get_purchase_or_404(request, purchase_id)
    if purchase.is_paid:
        return redirect("credits:purchase", purchase_id=purchase.pk)
    purchases.purchase_cancel(user=request.user, purchase_id=purchase.pk)
    return render(request, "credits/cancelled.html", {"purchase": purchase, "return_to": _return_to(request)})

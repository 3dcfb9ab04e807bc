"""Stripe's webhook, beside the Astria callback: the provider calls it, not a browser."""

import json
import logging

import stripe
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from studio.credits import purchases

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: signature checked by the stripe library (5 minutes' tolerance), each
    event id recorded once, paid checkouts granted once. Stripe retries anything but a 2xx."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise Http404("Stripe is not configured.")
    try:
        payload = request.body.decode()
        stripe.WebhookSignature.verify_header(
            payload, request.headers.get("Stripe-Signature"), settings.STRIPE_WEBHOOK_SECRET,
            tolerance=stripe.Webhook.DEFAULT_TOLERANCE,
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as error:
        logger.warning("Stripe webhook refused: %s", error)
        return HttpResponseBadRequest("Invalid signature.")
    except ValueError:
        return HttpResponseBadRequest("Invalid payload.")
    try:
        new = purchases.stripe_event_handle(event=event)
    except ValueError as error:
        # Signed by Stripe, so a retry would bring the same body: acknowledge it, and say so.
        logger.error("Stripe webhook: a signed event of an unexpected shape was ignored: %s", error)
        return HttpResponse("ignored", content_type="text/plain")
    return HttpResponse("ok" if new else "already received", content_type="text/plain")

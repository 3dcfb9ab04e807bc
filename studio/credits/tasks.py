import stripe
from celery import shared_task

from studio.core.tasks import EMAIL_TASK

# Network trouble and Stripe's own 5xx/429: worth another try. Authentication or invalid
# requests are not.
TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@shared_task(
    autoretry_for=TRANSIENT,
    retry_backoff=30,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=60,
    time_limit=90,
)
def purchase_reconcile(purchase_id: str) -> None:
    from studio.credits import purchases

    purchases.purchase_reconcile(purchase_id=purchase_id)


@shared_task
def purchase_reconcile_pending() -> None:
    from studio.credits import purchases

    purchases.purchase_reconcile_pending()


@shared_task(**EMAIL_TASK)
def purchase_send_review_email(purchase_id: str) -> None:
    from studio.credits import emails

    emails.purchase_send_review_email(purchase_id=purchase_id)


@shared_task(**EMAIL_TASK)
def purchase_send_granted_email(purchase_id: str) -> None:
    from studio.credits import emails

    emails.purchase_send_granted_email(purchase_id=purchase_id)


@shared_task(**EMAIL_TASK)
def purchase_send_taken_back_email(purchase_id: str, amount: int) -> None:
    from studio.credits import emails

    emails.purchase_send_taken_back_email(purchase_id=purchase_id, amount=amount)

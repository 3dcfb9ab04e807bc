from functools import partial

from django.http import HttpRequest

from studio.credits.selectors import credit_balance


def credits(request: HttpRequest) -> dict:
    """`credit_balance` for templates: read when a template shows it, so after the view's writes."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"credit_balance": partial(credit_balance, user=user)}

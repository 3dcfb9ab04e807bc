from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from studio.core.htmx import HtmxRequest, wants_fragment
from studio.dashboard.figures import dashboard_get
from studio.dashboard.forms import PeriodForm


def staff_required(view: Callable) -> Callable:
    """Anonymous visitors go to the login page; signed-in people who are not staff get 403."""

    @wraps(view)
    @login_required
    def wrapper(request: HtmxRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@staff_required
def index(request: HtmxRequest) -> HttpResponse:
    form, days, error = PeriodForm.from_query(request.GET)
    fragment = wants_fragment(request)
    dashboard = dashboard_get(days=days, today=timezone.localdate())
    context = {
        "form": form,
        "period_error": error,
        "fragment": fragment,
        "dashboard": dashboard,
    }
    return render(request, "dashboard/index.html#body" if fragment else "dashboard/index.html", context)

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studio.core.selectors import health_broker, health_database


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "core/landing.html")


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    status = {"database": health_database(), "broker": health_broker()}
    healthy = all(status.values())
    body = {"status": "ok" if healthy else "error"} | {
        name: "up" if up else "down" for name, up in status.items()
    }
    return JsonResponse(body, status=200 if healthy else 503)

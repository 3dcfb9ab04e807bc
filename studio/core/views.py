from django.conf import settings
from django.core.exceptions import TooManyFilesSent
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


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400 page (handler400) that says what went wrong when we know it."""
    if isinstance(exception, TooManyFilesSent):
        message = (
            f"That was more files than one upload can take ({settings.DATA_UPLOAD_MAX_NUMBER_FILES} at "
            "most), so none of them were added. Go back and add them a few at a time."
        )
    else:
        message = "Your browser sent a request we could not understand. Go back and try again."
    return render(request, "400.html", {"message": message}, status=400)

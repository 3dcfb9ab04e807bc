from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from studio.core.selectors import health_broker, health_database
from studio.credits.packs import credit_packs, price_story, signup_grant_styles
from studio.themes.selectors import theme_showcase


@require_safe  # HEAD too: link checkers and uptime monitors ask for it
def landing(request: HttpRequest) -> HttpResponse:
    themes, theme_count = theme_showcase()
    packs = credit_packs()
    context = {
        "themes": themes,
        "more_themes": theme_count - len(themes),
        "prices": price_story(),
        "free_styles": signup_grant_styles(),
        "photos_retention_days": settings.PHOTOS_RETENTION_DAYS,
        "cheapest_pack": min(packs, key=lambda pack: pack.price) if packs else None,
    }
    return render(request, "core/landing.html", context)


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

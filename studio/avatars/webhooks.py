from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from studio.avatars.callbacks import callback_record
from studio.core.ratelimit import failure_limit


@csrf_exempt
@require_POST
@failure_limit("callback")
def astria_callback(request: HttpRequest, token: str) -> JsonResponse:
    """Astria's tune and prompt callbacks: authenticated by the token, recorded, answered at once.

    The body is only a trigger; a task re-reads the object from Astria before acting on it.
    """
    if int(request.headers.get("Content-Length") or 0) > settings.CALLBACK_MAX_BYTES:
        return JsonResponse({"error": "body too large"}, status=413)
    if not callback_record(token=token, body=request.body[: settings.CALLBACK_MAX_BYTES]):
        raise Http404("Unknown callback.")
    return JsonResponse({"status": "received"})

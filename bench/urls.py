"""The studio's URLs plus one trivial view: the yardstick the benchmarks divide by."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from studio.urls import handler400
from studio.urls import urlpatterns as studio_urlpatterns

__all__ = ["handler400", "urlpatterns"]


@require_GET
def bare(request: HttpRequest) -> HttpResponse:
    """No database, no template: what the same server and middleware cost on their own."""
    return HttpResponse("ok\n", content_type="text/plain")


urlpatterns = [*studio_urlpatterns, path("_bench/bare/", bare, name="bench_bare")]

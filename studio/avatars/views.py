import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from studio.avatars import selectors, services
from studio.avatars.forms import AvatarCreateForm
from studio.avatars.models import Avatar
from studio.core.htmx import HtmxRequest


def _get_avatar_or_404(request: HtmxRequest, avatar_id: uuid.UUID) -> Avatar:
    try:
        return selectors.avatar_get_for_user(user=request.user, avatar_id=avatar_id)
    except Avatar.DoesNotExist:
        raise Http404("No such avatar.") from None


@login_required
@require_GET
def avatar_list(request: HtmxRequest) -> HttpResponse:
    avatars = selectors.avatar_list_for_user(user=request.user)
    return render(request, "avatars/list.html", {"avatars": avatars})


@login_required
@require_http_methods(["GET", "POST"])
def avatar_create(request: HtmxRequest) -> HttpResponse:
    form = AvatarCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        avatar = services.avatar_create(user=request.user, **form.cleaned_data)
        return redirect("photos:upload", avatar_id=avatar.pk)
    status = 422 if form.is_bound else 200
    return render(request, "avatars/create.html", {"form": form}, status=status)


@login_required
@require_GET
def avatar_detail(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    avatar = _get_avatar_or_404(request, avatar_id)
    return render(request, "avatars/detail.html", {"avatar": avatar})

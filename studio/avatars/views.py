import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from studio.avatars import selectors, services
from studio.avatars.forms import AvatarCreateForm
from studio.avatars.models import Avatar
from studio.core.exceptions import ApplicationError
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
        return redirect("avatars:detail", avatar_id=avatar.pk)
    status = 422 if form.is_bound else 200
    return render(request, "avatars/create.html", {"form": form}, status=status)


@login_required
@require_GET
def avatar_detail(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    avatar = _get_avatar_or_404(request, avatar_id)
    return render(request, "avatars/detail.html", {"avatar": avatar})


@login_required
@require_http_methods(["GET", "POST"])
def avatar_confirm(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    from studio.credits.exceptions import InsufficientCredits
    from studio.credits.selectors import credit_balance
    from studio.photos.selectors import photos_accepted_count
    from studio.themes.planner import plan_for_avatar

    avatar = _get_avatar_or_404(request, avatar_id)
    if not avatar.is_draft:
        return redirect("avatars:detail", avatar_id=avatar.pk)
    error = ""
    if request.method == "POST":
        try:
            services.avatar_confirm(user=request.user, avatar_id=avatar.pk)
        except InsufficientCredits:
            error = "You do not have enough credits for this order. Buy credits, or choose fewer prompts."
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, "Paid and queued: training starts in a moment.")
            return redirect("avatars:detail", avatar_id=avatar.pk)
    plan = plan_for_avatar(avatar=avatar)
    balance = credit_balance(user=request.user)
    context = {
        "avatar": avatar,
        "plan": plan,
        "balance": balance,
        "photos_accepted": photos_accepted_count(avatar=avatar),
        "enough_credits": balance >= plan.credit_cost,
        "error": error,
    }
    return render(request, "avatars/confirm.html", context, status=422 if error else 200)

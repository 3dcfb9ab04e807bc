import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect

from studio.avatars import exports, likeness, page_cache, selectors, services
from studio.avatars.forms import (
    AvatarCreateForm,
    AvatarListUpdatesForm,
    AvatarProgressForm,
    ConfirmForm,
    ExportForm,
    GenerateMoreForm,
)
from studio.avatars.models import Avatar, GalleryExport, GeneratedImage
from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.core.htmx import HtmxRequest, wants_fragment
from studio.core.media import THUMBNAIL_MAX_AGE, private_file_response
from studio.core.ratelimit import rate_limit
from studio.credits.packs import price_story
from studio.credits.selectors import credit_balance, credit_pool_balance
from studio.photos.selectors import photo_count_accepted, photo_list_accepted
from studio.themes.planner import Meter, fair_use_left, plan_for_avatar, plan_more, prompts_used


def _get_image_or_404(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> GeneratedImage:
    try:
        return selectors.image_get_for_user(user=request.user, avatar_id=avatar_id, image_id=image_id)
    except GeneratedImage.DoesNotExist:
        raise Http404("No such image.") from None


# --- My avatars ---------------------------------------------------------------------------------


def _cards(avatars) -> list[tuple]:
    return [(avatar, selectors.avatar_card_progress(avatar)) for avatar in avatars]


@login_required
@require_GET
def avatar_list(request: HtmxRequest) -> HttpResponse:
    return page_cache.avatar_list_page(request)


@login_required
@require_GET
def avatar_list_updates(request: HtmxRequest) -> HttpResponse:
    """The page's single poller: fresh cards for avatars still in progress, swapped out of band."""
    cards = _cards(selectors.avatar_cards_for_user(user=request.user, pending_only=True))
    form = AvatarListUpdatesForm(request.GET)
    ids = form.cleaned_data["id"] if form.is_valid() else []
    if ids:
        finished = selectors.avatar_cards_for_user(user=request.user).filter(pk__in=ids).exclude(
            pk__in=[avatar.pk for avatar, _ in cards]
        )
        cards += _cards(finished)
    pending = any(progress.pending for _, progress in cards)
    response = render(request, "avatars/list.html#updates", {"cards": cards, "pending": pending})
    if not pending:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_http_methods(["GET", "POST"])
def avatar_create(request: HtmxRequest) -> HttpResponse:
    form = AvatarCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            avatar = services.avatar_create(user=request.user, **form.cleaned_data)
        except services.DraftLimitReached as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("photos:upload", avatar_id=avatar.pk)
    drafts = list(selectors.avatar_list_drafts_for_user(user=request.user))
    context = {"form": form, "drafts": drafts, "max_drafts": settings.AVATAR_MAX_DRAFTS}
    return render(request, "avatars/create.html", context, status=422 if form.is_bound else 200)


# --- The gallery ----------------------------------------------------------------------------------


def _gallery_context(avatar: Avatar) -> dict:
    prompts = list(selectors.gallery_prompts(avatar=avatar))
    finished = sum(1 for prompt in prompts if prompt.is_finished)
    progress = selectors.avatar_progress(avatar=avatar, prompts_total=len(prompts), prompts_finished=finished)
    images = [image for prompt in prompts for image in prompt.images.all()]
    return {
        "avatar": avatar,
        "prompts": prompts,
        "styles": selectors.gallery_styles(prompts=prompts),
        "progress": progress,
        "image_count": len(images),
        "favourite_count": sum(1 for image in images if image.is_favourite),
        "since": timezone.now().isoformat(),
        "export": selectors.export_latest(avatar=avatar),
        "prompts_left": max(settings.FAIR_USE_MAX_PROMPTS - len(prompts), 0),
    }


@login_required
@require_GET
def avatar_detail(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    avatar = get_object_or_404(selectors.avatar_for_gallery(user=request.user), pk=avatar_id)
    if avatar.is_draft:
        return redirect("photos:upload", avatar_id=avatar.pk)
    export = selectors.export_latest(avatar=avatar) if avatar.latest_export_id else None
    team_name = selectors.avatar_team_name(avatar=avatar) if avatar.pool_id else ""

    def context() -> dict:
        grid = page_cache.gallery_grid(avatar=avatar)
        return {
            "avatar": avatar,
            "grid": grid.html,
            "progress": selectors.avatar_progress(
                avatar=avatar, prompts_total=grid.prompts_total, prompts_finished=grid.prompts_finished
            ),
            "image_count": grid.image_count,
            "favourite_count": grid.favourite_count,
            "since": timezone.now().isoformat(),
            "export": export,
            "team_name": team_name,
            "prompts_left": max(settings.FAIR_USE_MAX_PROMPTS - grid.prompts_total, 0),
        }

    # Everything the page shows, but its progress: while that moves with time, it is rendered every time.
    shown = None if avatar.state in selectors.PENDING_STATES else (
        avatar.pk, avatar.state, avatar.gallery_version, avatar.name, avatar.subject_class, avatar.failure_reason,
        team_name,
        export and (export.pk, export.state, export.scope, export.image_count, export.bytes),
    )
    return page_cache.page(request, "avatars/gallery.html", key=shown, keep=page_cache.KEEP, context=context)


@login_required
@require_GET
def avatar_progress(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    """The gallery's single poller: the progress header, plus every prompt section that changed."""
    avatar = get_object_or_404(selectors.avatar_list_for_user(user=request.user), pk=avatar_id)
    since = AvatarProgressForm(request.GET).since_or_beginning()
    context = _gallery_context(avatar)
    context["changed"] = [style for style in context["styles"] if style.changed_at > since]
    if not wants_fragment(request):
        return redirect("avatars:detail", avatar_id=avatar.pk)
    response = render(request, "avatars/gallery.html#progress-update", context)
    if not context["progress"].pending:
        response.status_code = HTMX_STOP_POLLING
    return response


def _image_file(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID, *, thumbnail: bool) -> HttpResponse:
    """A generated image or its WebP thumbnail, to its owner only; ``?download=1`` saves the
    image under a name that says what it is."""
    image = _get_image_or_404(request, avatar_id, image_id)
    if thumbnail:
        return private_file_response(image.thumbnail.name, content_type="image/webp", max_age=THUMBNAIL_MAX_AGE)
    download = None
    if request.GET.get("download"):
        download = f"{image.avatar.name}-{image.prompt.label}-{image.index + 1}.jpg"
    return private_file_response(image.image.name, content_type="image/jpeg", download_name=download)


@login_required
@require_GET
def image_file(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    return _image_file(request, avatar_id, image_id, thumbnail=False)


@login_required
@require_GET
def image_thumbnail(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    return _image_file(request, avatar_id, image_id, thumbnail=True)


@login_required
@require_POST
@rate_limit("favourite")
def image_favourite(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    _get_image_or_404(request, avatar_id, image_id)
    favourite = request.POST.get("favourite") == "1"
    image = services.image_set_favourite(user=request.user, image_id=image_id, favourite=favourite)
    if wants_fragment(request):
        return render(request, "avatars/gallery.html#favourite", {"image": image, "avatar": image.avatar})
    return redirect(f"{image.avatar.get_absolute_url()}#image-{image.pk}")


# --- Confirm, more, delete --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("confirm")
def avatar_confirm(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    avatar = get_object_or_404(selectors.avatar_list_for_user(user=request.user), pk=avatar_id)
    if not avatar.is_draft:
        return redirect("avatars:detail", avatar_id=avatar.pk)
    error = ""
    form = ConfirmForm(request.POST if request.method == "POST" else None, avatar=avatar)
    if request.method == "POST" and form.is_valid():
        try:
            services.avatar_confirm(user=request.user, avatar_id=avatar.pk, consent=form.cleaned_data["consent"])
        except InsufficientCredits:
            error = (
                f"{avatar.pool.name} does not have enough credits left for this order. Ask your team's admin."
                if avatar.pool_id else
                "You do not have enough credits for this order. Buy credits, or choose fewer styles."
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, "Paid and queued: training starts in a moment.")
            return redirect("avatars:detail", avatar_id=avatar.pk)
    plan = plan_for_avatar(avatar=avatar)
    # A member's avatar paid by their organisation is paid from its pool, not from their credits.
    balance = credit_pool_balance(pool=avatar.pool) if avatar.pool_id else credit_balance(user=request.user)
    context = {
        "avatar": avatar,
        "form": form,
        "plan": plan,
        "prices": price_story(),
        "balance": balance,
        "photos_accepted": photo_count_accepted(avatar=avatar),
        "enough_credits": balance >= plan.credit_cost,
        "likeness_guarantee": likeness.guarantee_share_words(avatar=avatar),
        "credits_missing": max(plan.credit_cost - balance, 0),
        "error": error,
    }
    return render(request, "avatars/confirm.html", context, status=422 if error or form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("generate")
def avatar_generate_more(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    """More styles for a trained avatar, picked as on the styles step. A GET with a selection (the
    page's live summary, its "Preview" without JavaScript, or coming back from buying credits)
    shows what it would send and cost; the POST orders it."""
    avatar = get_object_or_404(selectors.avatar_list_for_user(user=request.user), pk=avatar_id)
    picked = "themes" in request.GET or "custom_texts" in request.GET
    data = request.POST if request.method == "POST" else (request.GET if picked else None)
    form = GenerateMoreForm(data, avatar=avatar)
    if request.method == "POST" and form.is_valid():
        try:
            services.avatar_generate_more(
                user=request.user,
                avatar_id=avatar.pk,
                theme_slugs=form.cleaned_data["themes"],
                custom_texts=form.cleaned_data["custom_texts"],
            )
        except InsufficientCredits:
            form.add_error(None, "You do not have enough credits for this. Buy credits, or choose fewer styles.")
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "More portraits are on their way.")
            return redirect("avatars:detail", avatar_id=avatar.pk)
    context = _more_context(request, avatar, form)
    if wants_fragment(request) and request.method == "GET":
        return render(request, "avatars/more.html#summary", context)
    refused = request.method == "POST" and form.errors
    return render(request, "avatars/more.html", context, status=422 if refused else 200)


def _more_context(request: HtmxRequest, avatar: Avatar, form: GenerateMoreForm) -> dict:
    chosen = form.chosen()
    plan = plan_more(avatar=avatar, theme_slugs=chosen["themes"], custom_texts=chosen["custom_texts"])
    themes_used, custom_used = prompts_used(avatar=avatar)
    balance = credit_balance(user=request.user)
    here = reverse("avatars:more", args=[avatar.pk])
    selection = urlencode(
        {"themes": chosen["themes"], "custom_texts": "\n".join(chosen["custom_texts"])}, doseq=True
    ) if chosen["themes"] or chosen["custom_texts"] else ""
    meter = Meter.for_plan(
        plan,
        themes_used=themes_used,
        custom_used=custom_used,
        note=(
            f"Your model is trained: no new training, each style costs {settings.CREDITS_PRICE_PROMPT} "
            f"credit{pluralize(settings.CREDITS_PRICE_PROMPT)}. Nothing is charged until you press Generate."
        ),
        submit_form="more-form",
        short_of_credits=max(plan.credit_cost - balance, 0) if plan.is_valid else 0,
        buy_url=reverse("credits:buy") + "?" + urlencode({"next": f"{here}?{selection}" if selection else here}),
    )
    return {
        "avatar": avatar,
        "form": form,
        "plan": plan,
        "meter": meter,
        "left": fair_use_left(avatar=avatar),
        "themes": form.theme_choices(),
        "chosen_slugs": set(chosen["themes"]),
        "images_per_prompt": settings.IMAGES_PER_PROMPT,
        "price_prompt": settings.CREDITS_PRICE_PROMPT,
    }


@login_required
@require_http_methods(["GET", "POST"])
def avatar_delete(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    avatar = get_object_or_404(selectors.avatar_list_for_user(user=request.user), pk=avatar_id)
    if request.method == "POST":
        services.avatar_delete(user=request.user, avatar_id=avatar.pk)
        messages.success(request, f"“{avatar.name}” and everything in it were deleted.")
        url = "avatars:list"
        return HttpResponseClientRedirect(redirect(url).url) if request.htmx else redirect(url)
    context = {
        "avatar": avatar,
        "photo_count": photo_list_accepted(avatar=avatar).count(),
        "image_count": avatar.images.count(),
        "in_progress": avatar.state in selectors.PENDING_STATES,
    }
    return render(request, "avatars/delete.html", context)


# --- Zip downloads -----------------------------------------------------------------------------------


@login_required
@require_POST
@rate_limit("export")
def export_create(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    avatar = get_object_or_404(selectors.avatar_list_for_user(user=request.user), pk=avatar_id)
    form = ExportForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(form.errors["scope"][0])
        export = exports.export_create(user=request.user, avatar_id=avatar.pk, scope=form.cleaned_data["scope"])
    except ApplicationError as exc:
        if wants_fragment(request):
            context = {"avatar": avatar, "export_error": exc.message, "image_count": avatar.images.count()}
            return render(request, "avatars/gallery.html#export", context)
        messages.error(request, exc.message)
        return redirect("avatars:detail", avatar_id=avatar.pk)
    if wants_fragment(request):
        context = {"avatar": avatar, "export": export, "image_count": avatar.images.count()}
        return render(request, "avatars/gallery.html#export", context)
    return redirect("avatars:export", avatar_id=avatar.pk, export_id=export.pk)


@login_required
@require_GET
def export_detail(request: HtmxRequest, avatar_id: uuid.UUID, export_id: uuid.UUID) -> HttpResponse:
    try:
        export = selectors.export_get_for_user(user=request.user, avatar_id=avatar_id, export_id=export_id)
    except GalleryExport.DoesNotExist:
        raise Http404("No such download.") from None
    if request.GET.get("download") and export.state == GalleryExport.State.READY:
        name = f"{export.avatar.name} ({export.get_scope_display().lower()}).zip"
        return private_file_response(export.file.name, content_type="application/zip", download_name=name)
    context = {"avatar": export.avatar, "export": export, "image_count": export.avatar.images.count()}
    if wants_fragment(request):
        response = render(request, "avatars/gallery.html#export", context)
        if export.state != GalleryExport.State.BUILDING:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "avatars/export.html", context)

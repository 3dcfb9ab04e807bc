import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING, trigger_client_event

from studio.avatars.models import Avatar
from studio.avatars.selectors import avatar_list_for_user
from studio.core.exceptions import ApplicationError
from studio.core.htmx import HtmxRequest, wants_fragment
from studio.core.media import THUMBNAIL_MAX_AGE, private_file_response
from studio.core.ratelimit import rate_limit
from studio.photos import selectors, services
from studio.photos.forms import PhotoUploadForm
from studio.photos.models import Photo
from studio.photos.selectors import PhotoSet
from studio.photos.uploads import FILE_TOO_LARGE, dropped_uploads

PAGE = "photos/upload.html"


def _render(
    request: HtmxRequest,
    avatar: Avatar,
    *,
    template: str,
    form: PhotoUploadForm | None = None,
    status: int = 200,
    errors: list[str] | None = None,
    photo_set: PhotoSet | None = None,
) -> HttpResponse:
    photo_set = photo_set or selectors.photo_set_for_avatar(user=request.user, avatar=avatar)
    if form is None:
        form = PhotoUploadForm(photo_set=photo_set, dropped=[])
    context = {
        "avatar": avatar,
        "photo_set": photo_set,
        "form": form,
        "errors": errors or [],
        "current_step": "photos",
        "max_file_bytes": settings.PHOTOS_MAX_FILE_BYTES,
        "draft_retention_days": settings.DRAFT_RETENTION_DAYS,
        "is_fragment": template != PAGE,
    }
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("upload")
def photo_upload(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    """The upload page; a POST adds one or more photos (one per request from the page's script)."""
    avatar = get_object_or_404(avatar_list_for_user(user=request.user), pk=avatar_id)
    if not avatar.is_draft:
        if request.method == "GET":
            return redirect("avatars:detail", avatar_id=avatar.pk)
        return _refuse(request, avatar, services.PHOTOS_LOCKED_MESSAGE)
    if request.method == "GET":
        return _render(request, avatar, template=PAGE)

    dropped = dropped_uploads(request)
    photo_set = selectors.photo_set_for_avatar(user=request.user, avatar=avatar)
    form = PhotoUploadForm(request.POST, request.FILES, photo_set=photo_set, dropped=dropped)
    if not form.is_valid():
        template = f"{PAGE}#upload-errors" if wants_fragment(request) else PAGE
        return _render(request, avatar, template=template, form=form, status=422)

    errors: list[str] = []
    uploads = form.cleaned_data["photos"]
    for index, upload in enumerate(uploads):
        try:
            services.photo_upload(user=request.user, avatar=avatar, upload=upload)
        except ApplicationError as error:
            # The avatar is full or locked, or too many photos are being checked: the rest would
            # fail the same way. Nothing of them was kept, so the user is told which to add again.
            names = ", ".join(f"\u201c{services.display_name(rest.name)}\u201d" for rest in uploads[index:])
            errors.append(f"{error.message} Not added: {names}.")
            break
    for dropped_upload in dropped:
        if dropped_upload.reason == FILE_TOO_LARGE:
            services.photo_upload_dropped(user=request.user, avatar=avatar, name=dropped_upload.name)

    if wants_fragment(request):
        if errors:
            return _render(request, avatar, template=f"{PAGE}#upload-errors", errors=errors, status=422)
        return _render(request, avatar, template=f"{PAGE}#photo-set")
    for error in errors:
        messages.error(request, error)
    return redirect("photos:upload", avatar_id=avatar.pk)


@login_required
@require_GET
def photo_set(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    """The photo grid and counter, polled while photos are being checked (286 stops polling)."""
    avatar = get_object_or_404(avatar_list_for_user(user=request.user), pk=avatar_id)
    if not wants_fragment(request):
        return redirect("photos:upload", avatar_id=avatar.pk)
    photo_set = selectors.photo_set_for_avatar(user=request.user, avatar=avatar)
    status = 200 if photo_set.processing else HTMX_STOP_POLLING
    return _render(request, avatar, template=f"{PAGE}#photo-set", photo_set=photo_set, status=status)


@login_required
@require_POST
def photo_delete(request: HtmxRequest, avatar_id: uuid.UUID, photo_id: uuid.UUID) -> HttpResponse:
    avatar = get_object_or_404(avatar_list_for_user(user=request.user), pk=avatar_id)
    try:
        services.photo_delete(user=request.user, avatar_id=avatar.pk, photo_id=photo_id)
    except Photo.DoesNotExist:
        raise Http404("No such photo.") from None
    except ApplicationError as error:
        if not wants_fragment(request):
            messages.error(request, error.message)
            return redirect("photos:upload", avatar_id=avatar.pk)
        response = _render(request, avatar, template=f"{PAGE}#photo-set")
        return trigger_client_event(response, "toast", {"message": error.message, "level": "error"})
    if wants_fragment(request):
        return _render(request, avatar, template=f"{PAGE}#photo-set")
    messages.success(request, "Photo removed.")
    return redirect("photos:upload", avatar_id=avatar.pk)


def _refuse(request: HtmxRequest, avatar: Avatar, message: str) -> HttpResponse:
    """An upload the avatar's state no longer allows: the message where the user acted."""
    if wants_fragment(request):
        return _render(request, avatar, template=f"{PAGE}#upload-errors", errors=[message], status=422)
    messages.error(request, message)
    return redirect("avatars:detail", avatar_id=avatar.pk)


def _photo_file(request: HtmxRequest, avatar_id: uuid.UUID, photo_id: uuid.UUID, *, thumbnail: bool) -> HttpResponse:
    """The photo's normalised JPEG or its WebP thumbnail, to its owner only."""
    # Anonymous visitors get the same 404 as other users: no login redirect that confirms the URL.
    if not request.user.is_authenticated:
        raise Http404("No such photo.")
    try:
        photo = selectors.photo_get_for_user(user=request.user, avatar_id=avatar_id, photo_id=photo_id)
    except Photo.DoesNotExist:
        raise Http404("No such photo.") from None
    file, content_type = (photo.thumbnail, "image/webp") if thumbnail else (photo.image, "image/jpeg")
    if not file:
        raise Http404("This photo has no file yet.")
    return private_file_response(file.name, content_type=content_type, max_age=THUMBNAIL_MAX_AGE if thumbnail else 0)


@require_GET
def photo_image(request: HtmxRequest, avatar_id: uuid.UUID, photo_id: uuid.UUID) -> HttpResponse:
    return _photo_file(request, avatar_id, photo_id, thumbnail=False)


@require_GET
def photo_thumbnail(request: HtmxRequest, avatar_id: uuid.UUID, photo_id: uuid.UUID) -> HttpResponse:
    return _photo_file(request, avatar_id, photo_id, thumbnail=True)

"""The edit studio's pages: an image's own edit page, and ordering an edit from it."""

import uuid
from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_POST

from studio.avatars import edits, profile_pictures, selectors
from studio.avatars.forms import ExtendForm, ProfilePictureForm, TouchUpForm
from studio.avatars.models import EditKind, GeneratedImage
from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.core.htmx import HtmxRequest
from studio.core.media import MEDIA_CSP, THUMBNAIL_MAX_AGE, cache_control
from studio.core.ratelimit import rate_limit
from studio.credits.selectors import credit_balance
from studio.themes.exceptions import PromptRejected


def _image_or_404(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> GeneratedImage:
    try:
        return selectors.image_get_for_user(user=request.user, avatar_id=avatar_id, image_id=image_id)
    except GeneratedImage.DoesNotExist:
        raise Http404("No such image.") from None


def _page(
    request: HtmxRequest, image: GeneratedImage, *, error: str = "", status: int = 200, touchup_form=None
) -> HttpResponse:
    here = reverse("avatars:edit", args=[image.avatar_id, image.pk])
    balance = credit_balance(user=request.user)
    offers = {
        kind: replace(offer, short_of_credits=max(offer.price - balance, 0))
        for kind, offer in edits.edit_offers(image=image).items()
    }
    context = {
        "avatar": image.avatar,
        "image": image,
        "source": image.prompt.source_image,
        "made": list(selectors.image_edits(image=image)),
        "more": offers[EditKind.MORE],
        "more_button": f"Make {offers[EditKind.MORE].num_images} more like this",
        "bigger": offers[EditKind.BIGGER],
        "bigger_width": image.width * 4,
        "bigger_height": image.height * 4,
        "extend": offers[EditKind.EXTEND],
        "extend_shapes": edits.EXTEND_SHAPES.values(),
        "touchup": offers[EditKind.TOUCHUP],
        "touchup_form": touchup_form or TouchUpForm(auto_id="touchup-%s"),
        "balance": balance,
        "buy_url": reverse("credits:buy") + "?" + urlencode({"next": here}),
        "error": error,
        "profile_shapes": profile_pictures.SHAPES,
        "profile_sizes": profile_pictures.SIZES,
    }
    return render(request, "avatars/edit.html", context, status=status)


@login_required
@require_GET
def image_edit(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    """What can be made from this image, each with its price, and what has been made from it."""
    return _page(request, _image_or_404(request, avatar_id, image_id))


@login_required
@require_POST
@rate_limit("generate")
def image_edit_more(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    """Order "More like this": paid now, and the new images arrive in the gallery."""
    image = _image_or_404(request, avatar_id, image_id)
    return _order(request, image, kind=EditKind.MORE, done="More like this is on its way")


@login_required
@require_POST
@rate_limit("generate")
def image_edit_bigger(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    """Order "Bigger": paid now, and the larger image arrives in the gallery."""
    image = _image_or_404(request, avatar_id, image_id)
    return _order(request, image, kind=EditKind.BIGGER, done="The bigger image is on its way")


@login_required
@require_POST
@rate_limit("generate")
def image_edit_extend(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    """Order an Extend to the shape chosen (`shape`): paid now, and the wider or taller image
    arrives in the gallery."""
    image = _image_or_404(request, avatar_id, image_id)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        return _page(request, image, error=form.errors["shape"][0], status=422)
    shape = edits.EXTEND_SHAPES[form.cleaned_data["shape"]]
    done = f"Your {shape.label[0].lower()}{shape.label[1:]} is on its way"
    return _order(request, image, kind=EditKind.EXTEND, done=done, option=shape.name)


@login_required
@require_POST
@rate_limit("generate")
def image_edit_touchup(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    """Order a touch-up by instruction (`instruction`): cleaned and filtered as a custom prompt,
    paid now, and the edited image arrives in the gallery. A refused instruction comes back with
    the reason, in the box as typed."""
    image = _image_or_404(request, avatar_id, image_id)
    form = TouchUpForm(request.POST, auto_id="touchup-%s")
    if not form.is_valid():
        return _page(request, image, status=422, touchup_form=form)
    return _order(
        request, image, kind=EditKind.TOUCHUP, done="Your touch-up is on its way",
        instruction=form.cleaned_data["instruction"], form=form,
    )


def _order(
    request: HtmxRequest, image: GeneratedImage, *, kind: str, done: str, form: TouchUpForm | None = None, **choice
) -> HttpResponse:
    try:
        edit = edits.edit_order(user=request.user, avatar_id=image.avatar_id, image_id=image.pk, kind=kind, **choice)
    except InsufficientCredits:
        error = "You do not have enough credits for this. Buy credits first."
        return _page(request, image, error=error, status=422, touchup_form=form)
    except PromptRejected as exc:  # the words were refused: they stay in the box, the reason beside them
        form.add_error("instruction", exc.message)
        return _page(request, image, status=422, touchup_form=form)
    except ApplicationError as exc:
        return _page(request, image, error=exc.message, status=422, touchup_form=form)
    except GeneratedImage.DoesNotExist:
        raise Http404("No such image.") from None
    messages.success(request, f"{done}: it appears in the gallery, linked to this image.")
    return redirect(f"{reverse('avatars:detail', args=[image.avatar_id])}#prompt-{edit.pk}")


@login_required
@require_GET
def image_profile_picture(request: HtmxRequest, avatar_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    """A free profile picture of the image (`?shape=square|round&size=400|800|1600`, a 400 px
    square by default), made on the face; `download=1` saves it under a name that says what it is."""
    image = _image_or_404(request, avatar_id, image_id)
    form = ProfilePictureForm({"shape": "square", "size": "400"} | request.GET.dict())
    if not form.is_valid():
        raise Http404("No such profile picture.")
    shape, size = form.cleaned_data["shape"], form.cleaned_data["size"]
    picture = profile_pictures.profile_picture(image, shape=shape, size=size)
    response = HttpResponse(picture.data, content_type=picture.content_type)
    if request.GET.get("download"):
        name = f"{image.avatar.name}-profile-{shape}-{size}.{picture.extension}"
        response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = cache_control(THUMBNAIL_MAX_AGE)
    response["Content-Security-Policy"] = MEDIA_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response

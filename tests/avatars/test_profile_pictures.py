"""Profile pictures: square and round crops on the face, made here at 400, 800 and 1600 px."""

import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from studio import faces
from studio.avatars import profile_pictures
from studio.credits.selectors import credit_balance
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.faces.photographs import photograph
from tests.factories import AvatarFactory

pytestmark = pytest.mark.django_db


def _portrait_on_the_left() -> Image.Image:
    """A wide picture with the face well left of its centre, as a banner-like portrait has."""
    canvas = Image.new("RGB", (1800, 900), (40, 90, 140))
    canvas.paste(photograph("hopper", min_side=900).crop((0, 0, 700, 900)), (60, 0))
    return canvas


@pytest.fixture
def off_centre(user):
    picture = _portrait_on_the_left()
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92)
    avatar = AvatarFactory(user=user, name="Grace")
    prompt = PromptFactory(avatar=avatar, label="Studio portrait")
    return GeneratedImageFactory(
        prompt=prompt, avatar=avatar, index=0, width=1800, height=900,
        image=ContentFile(out.getvalue(), name="full.jpg"),
    )


def test_the_crop_is_centred_on_the_face_and_stays_inside_the_picture():
    assert profile_pictures.crop_box(1000, 600, None) == (200, 0, 800, 600)  # no face: the centre
    left, top, right, bottom = profile_pictures.crop_box(1000, 600, (20, 10, 100, 120))
    assert (left, top) == (0, 0) and right - left == bottom - top == 260  # 2.6 faces wide, kept inside
    assert profile_pictures.crop_box(1000, 600, (400, 200, 400, 400)) == (300, 0, 900, 600)  # at most the short side


def test_a_profile_picture_holds_the_face_not_the_centre(off_centre):
    face = faces.analyse(_portrait_on_the_left()).largest
    box = profile_pictures.crop_box(1800, 900, face.box)
    x, y, w, h = face.box

    made = Image.open(io.BytesIO(profile_pictures.profile_picture(off_centre, shape="square", size=400).data))

    assert made.size == (400, 400) and made.format == "JPEG"
    assert box[0] <= x and x + w <= box[2] and box[1] <= y and y + h <= box[3]
    assert box[0] < profile_pictures.crop_box(1800, 900, None)[0]  # moved to the face, left of the middle


def test_a_round_picture_is_transparent_outside_its_circle(off_centre):
    picture = profile_pictures.profile_picture(off_centre, shape="round", size=800)

    made = Image.open(io.BytesIO(picture.data))
    assert (picture.content_type, made.size, made.mode) == ("image/png", (800, 800), "RGBA")
    assert made.getpixel((2, 2))[3] == 0 and made.getpixel((400, 400))[3] == 255


def test_the_owner_downloads_them_free_from_the_edit_page(user_client, user, off_centre):
    url = reverse("avatars:profile_picture", args=[off_centre.avatar_id, off_centre.pk])
    page = user_client.get(reverse("avatars:edit", args=[off_centre.avatar_id, off_centre.pk])).content.decode()
    assert f"{url}?shape=round&amp;size=1600&amp;download=1" in page
    assert 'aria-label="1600 px, download the round profile picture">1600 px</a>' in page

    response = user_client.get(url, {"shape": "round", "size": "1600", "download": "1"})

    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert 'filename="Grace-profile-round-1600.png"' in response["Content-Disposition"]
    assert Image.open(io.BytesIO(response.content)).size == (1600, 1600)
    assert credit_balance(user=user) == 0


@pytest.mark.parametrize("query", [{"shape": "oval", "size": "400"}, {"shape": "round", "size": "333"}])
def test_other_shapes_and_sizes_are_not_made(user_client, off_centre, query):
    url = reverse("avatars:profile_picture", args=[off_centre.avatar_id, off_centre.pk])

    assert user_client.get(url, query).status_code == 404

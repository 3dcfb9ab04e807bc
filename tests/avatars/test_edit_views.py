"""The edit page of an image and ordering an edit from it."""

import re

import pytest
from django.urls import reverse

from studio.avatars.models import AvatarState, EditKind, GeneratedImage, Prompt
from studio.credits.selectors import credit_balance
from studio.credits.services import credit_grant
from tests.avatars.factories import GeneratedImageFactory, PromptFactory, done_avatar
from tests.helpers import state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(user, settings):
    settings.IMAGES_PER_PROMPT = 4
    settings.CREDITS_PRICE_EDIT_MORE = 3
    avatar = done_avatar(user=user, name="Ada", prompts=1, images_per_prompt=2, branch="fast")
    return avatar.images.order_by("index").last()


def _edit_url(image: GeneratedImage, name: str = "avatars:edit") -> str:
    return reverse(name, args=[image.avatar_id, image.pk])


def test_the_edit_page_shows_the_price_before_anything_is_spent(user_client, user, image):
    credit_grant(user=user, amount=5, key="grant", reason="Credits for the test")

    response = user_client.get(_edit_url(image))

    html = response.content.decode()
    assert response.status_code == 200
    assert "More like this" in html and "<strong>3 credits</strong>" in html and "you have 5 credits" in html
    assert "Make 4 more like this for 3 credits" in html
    assert f'alt="{image.prompt.label}, image 2 of Ada"' in html
    assert credit_balance(user=user) == 5


def test_without_the_credits_the_page_offers_to_buy_them_and_no_button(user_client, image):
    html = user_client.get(_edit_url(image)).content.decode()

    assert "You need 3 more credits for this." in html and "Buy credits" in html
    assert "Make 4 more like this" not in html


def test_ordering_spends_once_and_the_gallery_shows_the_edit_linked_to_its_source(
    user_client, user, image, django_capture_on_commit_callbacks
):
    credit_grant(user=user, amount=5, key="grant", reason="Credits for the test")

    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post(_edit_url(image, "avatars:edit_more"))

    edit = Prompt.objects.get(kind=EditKind.MORE)
    assert response.status_code == 302 and response["Location"].endswith(f"#prompt-{edit.pk}")
    assert credit_balance(user=user) == 2 and state_of(image.avatar) == AvatarState.GENERATING
    gallery = user_client.get(reverse("avatars:detail", args=[image.avatar_id])).content.decode()
    assert f"More like “{image.prompt.label}”, image 2" in gallery
    assert f'Made from <a href="{_edit_url(image)}">{image.prompt.label}, image 2</a>' in gallery
    assert f'Edits: <a href="#prompt-{edit.pk}">More like this</a>' in gallery  # the source links to it too
    page = user_client.get(_edit_url(image)).content.decode()
    assert "Made from this portrait" in page and f"#prompt-{edit.pk}" in page and "on its way" in page
    assert "once the images being made now are finished" in page  # no second order meanwhile


def test_an_edits_image_links_back_to_its_source(user_client, user, image):
    edit = PromptFactory(avatar=image.avatar, batch=1, position=0, kind=EditKind.MORE, source_image=image)
    made = GeneratedImageFactory(prompt=edit, avatar=image.avatar, index=0)

    html = user_client.get(_edit_url(made)).content.decode()

    assert f'Made from <a href="{_edit_url(image)}">{image.prompt.label}, image 2</a>' in html


def test_a_refused_order_says_why_and_spends_nothing(user_client, user, image, settings):
    settings.FAIR_USE_MAX_PROMPTS = 1
    credit_grant(user=user, amount=5, key="grant", reason="Credits for the test")

    response = user_client.post(_edit_url(image, "avatars:edit_more"))

    assert response.status_code == 422 and "Ada has used all 1 prompts" in response.content.decode()
    assert credit_balance(user=user) == 5 and not Prompt.objects.filter(kind=EditKind.MORE).exists()


def test_gallery_tiles_and_the_lightbox_lead_to_the_edit_page(user_client, image):
    html = user_client.get(reverse("avatars:detail", args=[image.avatar_id])).content.decode()

    assert f'data-edit="{_edit_url(image)}"' in html
    assert f'href="{_edit_url(image)}" aria-label="Edit {image.prompt.label}, image 2">Edit</a>' in html
    assert 'class="button secondary outline lightbox-edit"' in html


def test_bigger_shows_its_size_and_price_and_orders_one_image(
    user_client, user, image, settings, django_capture_on_commit_callbacks
):
    settings.CREDITS_PRICE_EDIT_BIGGER = 1
    credit_grant(user=user, amount=5, key="grant", reason="Credits for the test")
    page = user_client.get(_edit_url(image)).content.decode()
    assert "(256 \N{MULTIPLICATION SIGN} 256 px)" in page and "Make it 4 times bigger for 1 credit</button>" in page

    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post(_edit_url(image, "avatars:edit_bigger"))

    edit = Prompt.objects.get(kind=EditKind.BIGGER)
    assert response.status_code == 302 and response["Location"].endswith(f"#prompt-{edit.pk}")
    assert (edit.num_images, edit.source_image, edit.seed) == (1, image, None)
    assert credit_balance(user=user) == 4


def test_extend_offers_both_shapes_and_orders_the_one_pressed(
    user_client, user, image, settings, django_capture_on_commit_callbacks
):
    settings.CREDITS_PRICE_EDIT_EXTEND = 2
    credit_grant(user=user, amount=5, key="grant", reason="Credits for the test")
    page = user_client.get(_edit_url(image)).content.decode()
    assert "a LinkedIn banner (3072 \N{MULTIPLICATION SIGN} 768 px)" in page
    assert '<button type="submit" name="shape" value="banner">Make a LinkedIn banner for 2 credits</button>' in page
    assert "Make a full-length portrait for 2 credits</button>" in page

    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post(_edit_url(image, "avatars:edit_extend"), {"shape": "full_length"})

    edit = Prompt.objects.get(kind=EditKind.EXTEND)
    assert response.status_code == 302 and response["Location"].endswith(f"#prompt-{edit.pk}")
    assert (edit.edit_option, edit.width, edit.height, edit.source_image) == ("full_length", 1152, 2048, image)
    assert credit_balance(user=user) == 3
    page = user_client.get(_edit_url(image)).content.decode()
    assert f'#prompt-{edit.pk}">Full-length portrait</a>:' in page and "on its way" in page


def test_extend_with_no_shape_says_so_and_spends_nothing(user_client, user, image):
    credit_grant(user=user, amount=5, key="grant", reason="Credits for the test")

    response = user_client.post(_edit_url(image, "avatars:edit_extend"), {"shape": "poster"})

    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()
    assert credit_balance(user=user) == 5 and not Prompt.objects.filter(kind=EditKind.EXTEND).exists()


def test_where_the_model_cannot_extend_the_page_says_why_and_offers_no_button(user_client, user):
    credit_grant(user=user, amount=5, key="grant", reason="Credits for the test")
    avatar = done_avatar(user=user, name="Ada", prompts=1, images_per_prompt=1, branch="sdxl1", tune_id=7)

    page = user_client.get(_edit_url(avatar.images.get())).content.decode()

    assert "Not offered for Ada: extending a picture needs outpainting" in page
    assert "made with Stable Diffusion XL" in page and "Make a LinkedIn banner" not in page
    assert "Touch it up for 1 credit</button>" in page  # the other edits are offered


def test_a_touch_up_is_ordered_with_the_words_as_written(
    user_client, user, image, settings, django_capture_on_commit_callbacks
):
    settings.CREDITS_PRICE_EDIT_TOUCHUP = 2
    credit_grant(user=user, amount=5, key="grant", reason="Credits for the test")
    page = user_client.get(_edit_url(image)).content.decode()
    assert '<label for="touchup-instruction">What should change?</label>' in page
    assert "Touch it up for 2 credits</button>" in page

    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post(_edit_url(image, "avatars:edit_touchup"), {"instruction": "a navy blazer instead"})

    edit = Prompt.objects.get(kind=EditKind.TOUCHUP)
    assert response.status_code == 302 and response["Location"].endswith(f"#prompt-{edit.pk}")
    assert (edit.text, edit.num_images) == ("a navy blazer instead", 1)
    assert edit.astria_tune_id == settings.ASTRIA_EDIT_TUNE_ID
    assert credit_balance(user=user) == 3
    gallery = user_client.get(reverse("avatars:detail", args=[image.avatar_id])).content.decode()
    assert f"Touch-up: “{image.prompt.label}”, image 2 · a navy blazer instead" in gallery
    assert f'<a href="#prompt-{edit.pk}">Touch-up “a navy blazer instead”</a>' in gallery


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("", "Say what to change, for example"),
        ("a nude beach", "“nude” is not allowed"),
        ("x" * 400, "Ensure this value has at most 300 characters"),
    ],
)
def test_a_refused_touch_up_keeps_the_words_says_why_and_spends_nothing(user_client, user, image, words, reason):
    credit_grant(user=user, amount=5, key="grant", reason="Credits for the test")

    response = user_client.post(_edit_url(image, "avatars:edit_touchup"), {"instruction": words})

    html = response.content.decode()
    assert response.status_code == 422 and reason in html
    assert f">\n{words}</textarea>" in html  # nothing the customer typed is lost
    assert credit_balance(user=user) == 5 and not Prompt.objects.filter(kind=EditKind.TOUCHUP).exists()


def test_each_edit_is_shown_right_after_the_style_it_was_made_from(user_client, user):
    avatar = done_avatar(user=user, prompts=3, images_per_prompt=1)
    first, second, third = avatar.prompts.order_by("position")
    bigger = PromptFactory(
        avatar=avatar, batch=1, position=0, kind=EditKind.BIGGER, source_image=first.images.get(), num_images=1
    )
    GeneratedImageFactory(prompt=bigger, avatar=avatar, index=0)
    more = PromptFactory(avatar=avatar, batch=2, position=0, kind=EditKind.MORE, source_image=bigger.images.get())
    touchup = PromptFactory(
        avatar=avatar, batch=3, position=0, kind=EditKind.TOUCHUP, source_image=third.images.get(), text="grey"
    )

    page = user_client.get(reverse("avatars:detail", args=[avatar.pk])).content.decode()

    sections = re.findall(r'<section id="prompt-(\d+)"', page)
    assert sections == [str(p.pk) for p in (first, bigger, more, second, third, touchup)]

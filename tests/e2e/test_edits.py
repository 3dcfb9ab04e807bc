"""The edit studio in a real browser: from the lightbox to an image's edit page, one edit of each
kind (more like this, extend, bigger, touch-up, profile picture), and each result found in the
gallery beside a link to its source.

As in the journey, nothing is faked between the browser and Astria: the live server takes the
requests, a real Celery worker runs the tasks, and the sandbox duplicates, paints and calls back.
"""

import io

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from studio.avatars import services as avatar_services
from studio.avatars.models import Avatar, AvatarState
from studio.credits.selectors import credit_balance
from studio.credits.services import credit_grant
from studio.themes import services as theme_services
from tests.e2e.browser import log_in, polled
from tests.factories import AvatarFactory, UserFactory
from tests.photos.factories import ready_photos

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def delivered(settings, live_server, astria_sandbox, request):
    """Ada's finished avatar: one style of 2 images, made through the whole pipeline."""
    settings.PUBLIC_URL = live_server.url
    settings.IMAGES_PER_PROMPT = 2
    theme_services.catalogue_sync()
    request.getfixturevalue("celery_worker_real")
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Ada")
    ready_photos(avatar, 4)
    theme_services.theme_choose(avatar=avatar, theme_slug="film-noir")
    credit_grant(user=user, amount=10, key="e2e-edits", reason="Credits for the test")
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    astria_sandbox.wait_for(lambda: Avatar.objects.get(pk=avatar.pk).state == AvatarState.DONE, timeout=60)
    return avatar


def _edit_from_the_lightbox(page, avatar, number: int, screens=None) -> None:
    page.goto(f"/avatars/{avatar.pk}/")
    page.locator("#gallery .lightbox-link").nth(number - 1).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    if screens:
        screens("edit-lightbox")
    dialog.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit this portrait")).to_be_visible()


def test_one_edit_of_each_kind_from_the_lightbox_lands_in_the_gallery(page, delivered, astria_sandbox, screens):
    user = delivered.user
    balance = credit_balance(user=user)
    log_in(page, user)

    def finished() -> None:  # an edit waits while the avatar makes another
        astria_sandbox.wait_for(lambda: Avatar.objects.get(pk=delivered.pk).state == AvatarState.DONE, timeout=60)

    # More like this: the price first, then the new images in the gallery, linked to their source.
    _edit_from_the_lightbox(page, delivered, 1, screens)
    expect(page.get_by_text(f"you have {balance} credits").first).to_be_visible()
    for preview in ("Square profile picture preview", "Round profile picture preview"):
        expect(page.get_by_role("img", name=preview)).to_have_js_property("naturalWidth", 400)
    screens("edit-page")
    page.get_by_role("button", name="Make 2 more like this for 1 credit").click()
    more = page.locator("section.prompt-group", has_text="More like “Film noir”, image 1")
    polled(page, expect(more.locator(".image-tile img")).to_have_count, 2)
    expect(more.get_by_role("link", name="Film noir, image 1")).to_be_visible()
    expect(page.locator(".edit-made-into").get_by_role("link", name="More like this")).to_be_visible()  # both ways
    screens("edit-gallery")
    assert credit_balance(user=user) == balance - settings.CREDITS_PRICE_EDIT_MORE
    finished()

    # Extend: the first image as a LinkedIn banner, 4 times wider than tall.
    _edit_from_the_lightbox(page, delivered, 1)
    page.get_by_role("button", name="Make a LinkedIn banner for 1 credit").click()
    banner = page.locator("section.prompt-group", has_text="LinkedIn banner: “Film noir”, image 1")
    polled(page, expect(banner.locator(".image-tile img")).to_have_count, 1)
    (made,) = delivered.prompts.get(kind="extend").images.all()
    assert (made.width, made.height) == (3072, 768)
    finished()

    # Bigger: the second image, four times larger, as an image of its own.
    _edit_from_the_lightbox(page, delivered, 2)
    page.get_by_role("button", name="Make it 4 times bigger for 1 credit").click()
    bigger = page.locator("section.prompt-group", has_text="Bigger: “Film noir”, image 2")
    polled(page, expect(bigger.locator(".image-tile img")).to_have_count, 1)
    (made,) = delivered.prompts.get(kind="bigger").images.all()
    assert (made.width, made.height) == (4096, 4096)
    finished()

    # Touch-up: the second image with a plain grey background, in the customer's words.
    _edit_from_the_lightbox(page, delivered, 2)
    page.get_by_label("What should change?").fill("plain grey background")
    page.get_by_role("button", name="Touch it up for 1 credit").click()
    touchup = page.locator("section.prompt-group", has_text="Touch-up: “Film noir”, image 2")
    polled(page, expect(touchup.locator(".image-tile img")).to_have_count, 1)
    expect(touchup.get_by_role("link", name="Film noir, image 2")).to_be_visible()
    finished()

    # Profile picture: free, downloaded from the edit page.
    _edit_from_the_lightbox(page, delivered, 1)
    expect(page.get_by_role("link", name="Film noir, image 1")).to_have_count(0)  # a source, not an edit
    with page.expect_download() as download:
        page.get_by_role("link", name="400 px, download the round profile picture").click()
    picture = Image.open(io.BytesIO(download.value.path().read_bytes()))
    assert (picture.size, picture.mode, download.value.suggested_filename) == (
        (400, 400), "RGBA", "Ada-profile-round-400.png"
    )
    made_from_it = page.get_by_role("region", name="Made from this portrait")
    expect(made_from_it.get_by_role("link", name="More like this")).to_be_visible()  # what was made from it
    expect(made_from_it.get_by_role("link", name="LinkedIn banner")).to_be_visible()
    spent = sum(
        getattr(settings, f"CREDITS_PRICE_EDIT_{kind}") for kind in ("MORE", "EXTEND", "BIGGER", "TOUCHUP")
    )
    assert credit_balance(user=user) == balance - spent

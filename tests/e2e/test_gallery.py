"""The gallery in a real browser: it fills in while you watch, and the lightbox works by keyboard."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from studio.avatars.models import Avatar, AvatarState, Prompt, PromptState
from tests.avatars.factories import GeneratedImageFactory, PromptFactory, done_avatar
from tests.e2e.browser import log_in
from tests.factories import AvatarFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def finish(prompt: Prompt, *, images: int = 8) -> None:
    """The prompt's images arrive, as the images worker leaves them."""
    for index in range(images):
        GeneratedImageFactory(prompt=prompt, avatar=prompt.avatar, index=index)
    Prompt.objects.filter(pk=prompt.pk).update(state=PromptState.DONE, updated_at=timezone.now())


def test_images_appear_while_you_watch(page):
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Ada", state=AvatarState.GENERATING, tune_id=1_000_001)
    golden = PromptFactory(avatar=avatar, position=0, label="Golden hour", state=PromptState.DONE)
    noir = PromptFactory(avatar=avatar, position=1, label="Film noir", state=PromptState.SUBMITTED)
    jazz = PromptFactory(avatar=avatar, position=2, label="Jazz singer", state=PromptState.SUBMITTED)
    finish(golden)
    log_in(page, user)
    page.clock.install()  # the page's own time, moved on to its next poll instead of waited for

    page.goto(f"/avatars/{avatar.pk}/")
    progress = page.locator("#avatar-progress")
    images = page.locator("#gallery .image-tile img")
    expect(progress).to_contain_text("Painting your portraits… 1 of 3 styles done")
    expect(images).to_have_count(8)
    expect(page.locator(f"#prompt-{noir.pk}")).to_contain_text("In progress")
    expect(page.locator(f"#prompt-{noir.pk} .placeholder")).to_have_count(8)
    page.evaluate("window.stillTheSamePage = true")
    delete = page.get_by_role("link", name="Delete")
    delete.focus()  # a keyboard user on the header while it is swapped with fresh counts

    finish(noir)
    page.clock.fast_forward(3_000)
    expect(images).to_have_count(16)
    expect(delete).to_be_focused()
    expect(page.locator(f"#prompt-{noir.pk}")).to_contain_text("8 images")
    expect(progress).to_contain_text("Painting your portraits… 2 of 3 styles done")

    finish(jazz, images=6)
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.DONE, finished_at=timezone.now())
    page.clock.fast_forward(3_000)
    expect(images).to_have_count(22)
    expect(progress).to_contain_text("Done")
    expect(progress.get_by_role("progressbar")).to_have_count(0)
    expect(progress).not_to_have_attribute("hx-get", re.compile(".*"))  # polling stopped
    expect(page.locator(".gallery-header")).to_contain_text("22 images")  # the header keeps up too
    expect(page.get_by_role("button", name="Download all as zip")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True


def test_a_card_in_progress_keeps_the_keyboard_focus_while_my_avatars_updates_it(page):
    user = UserFactory()
    AvatarFactory(user=user, name="Ada", state=AvatarState.DONE)
    biscuit = AvatarFactory(user=user, name="Biscuit", state=AvatarState.GENERATING, tune_id=1_000_002)
    PromptFactory(avatar=biscuit, position=0, label="Golden hour", state=PromptState.SUBMITTED)
    log_in(page, user)
    page.clock.install()

    page.goto("/avatars/")
    link = page.get_by_role("link", name="Biscuit", exact=True)
    link.focus()
    card = page.locator(f"#avatar-{biscuit.pk}")
    card.evaluate("card => card.dataset.seen = 'before'")
    page.clock.fast_forward(3_000)
    expect(card).not_to_have_attribute("data-seen", "before")  # the poller put a fresh card in its place
    expect(link).to_be_focused()


def test_the_lightbox_works_with_the_keyboard(page, focus_shows):
    user = UserFactory()
    avatar = done_avatar(user=user, name="Ada", prompts=2, images_per_prompt=3)
    Prompt.objects.filter(avatar=avatar, position=0).update(label="Golden hour")
    Prompt.objects.filter(avatar=avatar, position=1).update(label="Film noir")
    log_in(page, user)
    page.goto(f"/avatars/{avatar.pk}/")

    links = page.locator("#gallery .lightbox-link")
    expect(links).to_have_count(6)
    dialog = page.get_by_role("dialog")
    title = dialog.locator(".lightbox-title")
    picture = dialog.locator(".lightbox-image")

    # Tab to the first thumbnail and open it with Enter.
    page.locator("#gallery").evaluate("gallery => gallery.scrollIntoView()")
    links.first.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(title).to_have_text("Golden hour, image 1")
    expect(picture).to_have_attribute("src", links.first.get_attribute("href"))
    expect(dialog.locator(".lightbox-caption")).to_have_text("portrait of Ada, golden hour, 85mm")
    expect(dialog.get_by_role("link", name="Download")).to_have_attribute(
        "href", links.first.get_attribute("href") + "?download=1"
    )

    page.keyboard.press("ArrowRight")
    expect(title).to_have_text("Golden hour, image 2")
    for _ in range(2):
        page.keyboard.press("ArrowRight")
    expect(title).to_have_text("Film noir, image 1")  # on into the next prompt
    expect(picture).to_have_attribute("src", links.nth(3).get_attribute("href"))
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    expect(title).to_have_text("Film noir, image 3")  # round from the first to the last
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.naturalWidth") > 0  # the full image, served

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(links.first).to_be_focused()  # back where the user was
    assert focus_shows(page)  # and the user can see it there

    # The buttons work too, and a click on the backdrop closes it.
    links.nth(1).click()
    expect(title).to_have_text("Golden hour, image 2")
    dialog.get_by_role("button", name="Next").click()
    expect(title).to_have_text("Golden hour, image 3")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(links.nth(1)).to_be_focused()


def test_the_lightbox_has_an_address_back_closes_it_and_a_reload_opens_it_again(page):
    user = UserFactory()
    avatar = done_avatar(user=user, name="Ada", prompts=1, images_per_prompt=3)
    Prompt.objects.filter(avatar=avatar).update(label="Golden hour")
    log_in(page, user)
    page.goto("/avatars/")
    page.goto(f"/avatars/{avatar.pk}/")
    gallery_url = page.url
    tiles = page.locator("#gallery .image-tile")
    ids = [tiles.nth(i).get_attribute("id").removeprefix("image-") for i in range(3)]
    dialog = page.get_by_role("dialog")
    title = dialog.locator(".lightbox-title")

    page.locator("#gallery .lightbox-link").nth(1).click()
    expect(title).to_have_text("Golden hour, image 2")
    expect(page).to_have_url(f"{gallery_url}#view-{ids[1]}")
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(f"{gallery_url}#view-{ids[2]}")  # moving along adds no history

    page.go_back()  # Back closes the lightbox and stays on the gallery
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(gallery_url)
    page.go_forward()
    expect(title).to_have_text("Golden hour, image 3")
    page.reload()  # a reload shows the same image
    expect(title).to_have_text("Golden hour, image 3")
    expect(dialog.locator(".lightbox-image")).to_have_js_property("complete", True)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(gallery_url)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/avatars/$"))  # closing left no lightbox entry behind

    # A link to one image opens on it; closing it leaves the gallery's own address.
    page.goto(f"{gallery_url}#view-{ids[0]}")
    expect(title).to_have_text("Golden hour, image 1")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(gallery_url)
    expect(page.locator("#gallery .lightbox-link").first).to_be_focused()


def swipe(page, cdp, *, dx: float, dy: float = 0) -> None:
    """A finger laid on the lightbox's image and moved by (dx, dy) in ten steps, through the browser's
    own touch input (so its scrolling and zooming get their say), then lifted."""
    box = page.locator(".lightbox-image").bounding_box()
    x, y = box["x"] + box["width"] / 2 - dx / 2, box["y"] + box["height"] / 2 - dy / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        point = {"x": x + dx * step / 10, "y": y + dy * step / 10}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_on_a_phone_a_swipe_across_the_image_moves_to_the_next_or_previous_one(browser, live_server):
    user = UserFactory()
    avatar = done_avatar(user=user, name="Ada", prompts=1, images_per_prompt=3)
    Prompt.objects.filter(avatar=avatar).update(label="Golden hour", astria_prompt_id=None)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    try:
        log_in(page, user)
        page.goto(f"/avatars/{avatar.pk}/")
        page.locator("#gallery .lightbox-link").first.tap()
        title = page.get_by_role("dialog").locator(".lightbox-title")
        expect(title).to_have_text("Golden hour, image 1")
        cdp = context.new_cdp_session(page)

        swipe(page, cdp, dx=-200)
        expect(title).to_have_text("Golden hour, image 2")
        swipe(page, cdp, dx=-200)
        expect(title).to_have_text("Golden hour, image 3")
        swipe(page, cdp, dx=200)
        expect(title).to_have_text("Golden hour, image 2")
        swipe(page, cdp, dx=-30)  # too short to be a swipe
        swipe(page, cdp, dx=-80, dy=200)  # more down than across
        swipe(page, cdp, dx=-200)  # one step on from image 2, where the two above left it
        expect(title).to_have_text("Golden hour, image 3")
    finally:
        context.close()


def test_each_style_shows_its_best_likeness_first_and_tucks_away_the_doubtful_ones(page):
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Ada", state=AvatarState.DONE, tune_id=1_000_002)
    golden = PromptFactory(avatar=avatar, position=0, label="Golden hour", num_images=4)
    # Stored in Astria's order; the gallery shows them by likeness.
    for index, (score, found) in enumerate([(0.55, True), (0.35, True), (0.93, True), (0.0, False)]):
        GeneratedImageFactory(prompt=golden, avatar=avatar, index=index, likeness=score, face_found=found)
    log_in(page, user)
    page.goto(f"/avatars/{avatar.pk}/")

    section = page.locator(f"#prompt-{golden.pk}")
    shown = section.locator(".image-grid").first.locator(".lightbox-link")
    expect(shown).to_have_count(2)
    expect(shown.nth(0)).to_have_attribute("data-likeness", "Strong likeness")
    expect(shown.nth(1)).to_have_attribute("data-likeness", "Good likeness")
    doubtful = section.get_by_role("group")  # the <details> disclosure
    summary = section.get_by_text("2 more that may not look like you")
    expect(summary).to_be_visible()
    expect(doubtful.locator(".lightbox-link").first).to_be_hidden()

    summary.focus()
    page.keyboard.press("Enter")  # opens by keyboard
    hidden = doubtful.locator(".lightbox-link")
    expect(hidden.first).to_be_visible()
    expect(hidden).to_have_count(2)
    hidden.first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".lightbox-title")).to_have_text("Golden hour, image 3")
    expect(dialog.locator(".lightbox-caption")).to_contain_text("Weak likeness · ")
    page.keyboard.press("ArrowRight")
    expect(dialog.locator(".lightbox-caption")).to_contain_text("No face found · ")
    page.keyboard.press("ArrowRight")  # round to the best one
    expect(dialog.locator(".lightbox-caption")).to_have_text(re.compile(r"^Strong likeness · portrait of Ada"))


LONG_PROMPT = (
    "professional corporate headshot of sks woman, head and shoulders, wearing a tailored navy blazer, "
    "confident warm smile, plain light grey studio backdrop, soft key light with gentle fill, 85mm f/2 lens, "
    "shallow depth of field, sharp focus on the eyes, natural skin texture, highly detailed, high quality"
)


@pytest.mark.parametrize(
    "size",
    [{"width": 1280, "height": 720}, {"width": 1366, "height": 768}, {"width": 1440, "height": 900},
     {"width": 390, "height": 844}],
    ids=["1280x720", "1366x768", "1440x900", "phone"],
)
def test_the_lightbox_fits_the_window_and_favourites_from_inside(browser, live_server, size):
    user = UserFactory()
    avatar = done_avatar(user=user, name="Ada", prompts=1, images_per_prompt=3)
    # No like to send to Astria (no prompt id there): this is about the page.
    Prompt.objects.filter(avatar=avatar).update(label="Corporate headshot", text=LONG_PROMPT, astria_prompt_id=None)
    context = browser.new_context(base_url=live_server.url, viewport=size, reduced_motion="reduce")
    page = context.new_page()
    try:
        log_in(page, user)
        page.goto(f"/avatars/{avatar.pk}/")
        page.locator("#gallery .lightbox-link").first.click()
        dialog = page.get_by_role("dialog")
        expect(dialog.locator(".lightbox-image")).to_have_js_property("complete", True)

        # Header, image, caption and every control are on screen, without scrolling.
        parts = [dialog.locator(".lightbox-title"), dialog.locator(".lightbox-image"),
                 dialog.locator(".lightbox-caption"), dialog.get_by_role("button", name="Close"),
                 dialog.get_by_role("button", name="Previous"), dialog.get_by_role("button", name="Next"),
                 dialog.get_by_role("button", name="Favourite"), dialog.get_by_role("link", name="Download")]
        for part in parts:
            expect(part).to_be_in_viewport(ratio=1)
        assert dialog.locator(".lightbox-image").bounding_box()["height"] > 150  # the image keeps its room
        expect(dialog.locator(".lightbox-caption")).to_contain_text("headshot of Ada, head and shoulders")

        # Favourite from the lightbox: the button and the tile behind it agree.
        favourite = dialog.get_by_role("button", name="Favourite")
        expect(favourite).to_have_attribute("aria-pressed", "false")
        favourite.click()
        expect(favourite).to_have_attribute("aria-pressed", "true")
        tile = page.locator(".image-tile").first.get_by_role("button", name="Favourite")
        expect(tile).to_have_attribute("aria-pressed", "true")
        page.keyboard.press("ArrowRight")
        expect(favourite).to_have_attribute("aria-pressed", "false")  # the next image is its own
    finally:
        context.close()


def open_finished_gallery(page, *, images: int) -> None:
    """A finished gallery of one style, opened by its owner (no like to send to Astria: this is
    about the page)."""
    user = UserFactory()
    avatar = done_avatar(user=user, name="Ada", prompts=1, images_per_prompt=images)
    Prompt.objects.filter(avatar=avatar).update(astria_prompt_id=None)
    log_in(page, user)
    page.goto(f"/avatars/{avatar.pk}/")


def test_the_zip_buttons_stay_usable_with_the_status_beside_them(page):
    open_finished_gallery(page, images=3)
    panel = page.locator("#gallery-export")
    every, favourites = (panel.get_by_role("button", name=name) for name in
                         ("Download all as zip", "Download favourites as zip"))

    every.click()
    expect(panel.get_by_role("status")).to_contain_text("zip of all images")
    expect(every).to_be_enabled()
    expect(favourites).to_be_enabled()
    status, buttons = panel.get_by_role("status").bounding_box(), every.bounding_box()
    assert status["y"] < buttons["y"] + buttons["height"] + 80  # beside the buttons, not far below

    page.locator(".image-tile").first.get_by_role("button", name="Favourite").click()
    expect(page.locator(".image-tile").first.get_by_role("button", name="Favourite")).to_have_attribute(
        "aria-pressed", "true"
    )
    favourites.click()
    expect(panel.get_by_role("status")).to_contain_text("zip of favourites")
    expect(every).to_be_enabled()


def test_a_favourite_toggled_from_the_keyboard_keeps_the_focus_on_its_button(page):
    open_finished_gallery(page, images=2)

    star = page.locator("#gallery .favourite-form button").first  # found again after the form swaps itself
    star.focus()
    page.keyboard.press("Enter")

    expect(star).to_have_attribute("aria-pressed", "true")
    expect(star).to_be_focused()

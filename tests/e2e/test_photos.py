import base64
import io
import re

import pytest
from PIL import Image, ImageOps
from playwright.sync_api import expect

from studio.avatars.models import Avatar
from tests.e2e.browser import assert_accessible, log_in
from tests.faces import photographs
from tests.factories import AvatarFactory, UserFactory
from tests.photos import corpus
from tests.photos.conftest import distinct_photos

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def photo_files(tmp_path):
    """Four good photos, one with a second person and one web page renamed .jpg, as files on disk."""
    paths = []
    for index, data in enumerate(distinct_photos(4)):
        paths.append(tmp_path / f"IMG_{100 + index}.jpg")
        paths[-1].write_bytes(data)
    group = tmp_path / "party.heic"
    group.write_bytes(corpus.encode(corpus.photo(faces=corpus.WITH_BYSTANDER, seed=40), "HEIF"))
    page = tmp_path / "invoice.jpg"
    page.write_bytes(corpus.HTML)
    return [*paths, group, page]


def test_a_user_creates_an_avatar_uploads_photos_and_sees_a_verdict_for_each(page, photo_files):
    user = UserFactory()
    log_in(page, user)
    page.get_by_role("link", name="New avatar").click()
    page.get_by_label("Who is this avatar of?").fill("Ada")
    page.get_by_label("The subject is a").select_option("woman")
    page.get_by_role("button", name="Continue to photos").click()

    expect(page.get_by_text("Drag and drop them here, or")).to_be_visible()
    expect(page.get_by_role("button", name="Upload photos")).to_be_hidden()  # the script uploads on choosing
    page.get_by_label("Choose photos").set_input_files([str(p) for p in photo_files])

    cards = page.locator(".photo-card")
    expect(cards).to_have_count(6)
    expect(page.locator(".photo-card.is-accepted")).to_have_count(4)
    expect(page.locator(".photo-card.is-warned")).to_contain_text("We found 2 faces")
    expect(page.locator(".photo-card.is-rejected")).to_contain_text("web page")
    expect(page.get_by_role("status").filter(has_text="accepted").first).to_contain_text("5 photos accepted")
    expect(page.locator("#draft-step-photos")).to_contain_text("5 accepted")
    expect(page.locator(".upload-item")).to_have_count(0)  # progress rows go once their card is there

    thumbnail = page.locator(".photo-card.is-accepted img").first
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => img.naturalWidth") > 0  # served privately, and it decodes

    continue_link = page.get_by_role("link", name="Continue to styles")
    avatar = Avatar.objects.get(user=user)
    expect(continue_link).to_have_attribute("href", f"/avatars/{avatar.pk}/styles/")
    assert_accessible(page, "photos with each verdict")

    page.locator(".photo-card.is-rejected").get_by_role("button", name="Remove").click()
    expect(cards).to_have_count(5)


def test_a_photo_arriving_changes_the_verdicts_of_the_whole_set_without_a_reload(page, tmp_path):
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Ada", subject_class="woman")
    grace = tmp_path / "grace.jpg"
    grace.write_bytes(photographs.jpeg("hopper"))
    shots = []
    for index, data in enumerate(distinct_photos(2)):
        shots.append(tmp_path / f"IMG_{index}.jpg")
        shots[-1].write_bytes(data)
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(corpus.jpeg(ImageOps.mirror(Image.open(io.BytesIO(distinct_photos(1)[0])))))
    log_in(page, user)
    page.goto(f"/avatars/{avatar.pk}/photos/")
    page.evaluate("window.stillTheSamePage = true")
    choose = page.get_by_label("Choose photos")

    def card(name):
        return page.locator(".photo-card").filter(has=page.locator(".photo-name", has_text=name))

    choose.set_input_files(str(grace))
    expect(card("grace.jpg")).to_have_class(re.compile(r"\bis-accepted\b"))  # alone, she is the set

    remove_grace = card("grace.jpg").get_by_role("button", name="Remove")
    remove_grace.focus()  # a keyboard user on the set while it is swapped with fresh verdicts
    choose.set_input_files([str(p) for p in shots])
    # Once both are checked, the photos that agree are named (in the order they arrived).
    expect(card("grace.jpg")).to_contain_text(re.compile(r"IMG_[01]\.jpg and IMG_[01]\.jpg"))
    expect(remove_grace).to_be_focused()
    expect(card("grace.jpg")).to_have_class(re.compile(r"\bis-rejected\b"))
    expect(card("grace.jpg")).to_contain_text("This looks like someone else")
    expect(page.get_by_role("status").filter(has_text="accepted").first).to_contain_text("2 of 4 accepted")

    choose.set_input_files(str(copy))
    expect(card("copy.jpg")).to_contain_text("same shot as IMG_0.jpg")
    expect(page.get_by_role("status").filter(has_text="accepted").first).to_contain_text("2 of 4 accepted")

    for name in ("IMG_0.jpg", "IMG_1.jpg"):
        page.wait_for_load_state("networkidle")  # the set's last refresh swapped in, not racing the key press
        card(name).get_by_role("button", name="Remove").focus()
        page.keyboard.press("Enter")
        expect(card(name)).to_have_count(0)
        expect(page.locator(".photo-remove:focus")).to_have_count(1)  # on to the next photo, not the page's top
    # Two photos of two people left: the earlier one is the person, the other the stranger.
    expect(card("grace.jpg")).to_have_class(re.compile(r"\bis-accepted\b"))
    expect(card("copy.jpg")).to_have_class(re.compile(r"\bis-rejected\b"))
    assert page.evaluate("window.stillTheSamePage") is True


def test_photos_dropped_on_the_page_are_uploaded(page):
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Ada")
    log_in(page, user)
    page.goto(f"/avatars/{avatar.pk}/photos/")

    data = base64.b64encode(corpus.jpeg()).decode()
    transfer = page.evaluate_handle(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: "image/jpeg"}));
            return transfer;
        }""",
        ["dropped.jpg", data],
    )
    page.dispatch_event("#photo-upload", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#photo-upload")).to_have_class("dropzone is-enhanced is-dragging")
    page.dispatch_event("#photo-upload", "drop", {"dataTransfer": transfer})

    expect(page.locator(".photo-card.is-accepted")).to_contain_text("dropped.jpg")
    expect(page.locator("#photo-upload")).not_to_have_class("dropzone is-enhanced is-dragging")


def test_a_file_over_the_size_cap_is_stopped_in_the_browser(page, settings, tmp_path):
    settings.PHOTOS_MAX_FILE_BYTES = 20_000
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Ada")
    big = tmp_path / "big.jpg"
    big.write_bytes(corpus.jpeg())
    log_in(page, user)
    page.goto(f"/avatars/{avatar.pk}/photos/")

    page.get_by_label("Choose photos").set_input_files(str(big))

    expect(page.locator(".upload-item.is-error")).to_contain_text("over the 0 MB limit for one photo")
    page.get_by_role("button", name="Dismiss big.jpg").click()
    expect(page.locator(".upload-item")).to_have_count(0)


def test_the_page_works_without_javascript(browser, live_server, photo_files):
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Ada")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, user)
        page.goto(f"/avatars/{avatar.pk}/photos/")

        page.get_by_label("Choose photos").set_input_files([str(p) for p in photo_files[:2]])
        page.get_by_role("button", name="Upload photos").click()

        expect(page.locator(".photo-card.is-accepted")).to_have_count(2)
        expect(page.get_by_text("2 of 4 accepted", exact=False).first).to_be_visible()
        page.locator(".photo-card").first.get_by_role("button", name="Remove").click()
        expect(page.locator(".photo-card")).to_have_count(1)
    finally:
        context.close()

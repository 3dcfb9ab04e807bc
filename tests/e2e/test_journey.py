"""The whole product in a real browser: a visitor becomes a customer and gets a gallery, and the
operator refunds an avatar from the admin.

Nothing is faked between the browser and Astria: the live server takes the requests, a real
Celery worker runs every task (photo checks included), the Astria sandbox trains and paints, and
its callbacks reach the live server.
"""

import re
import zipfile

import pytest
from django.core import mail
from playwright.sync_api import expect

from studio.avatars import services as avatar_services
from studio.avatars.models import AstriaTuneDeletion, Avatar, AvatarState, GeneratedImage, SubjectClass
from studio.credits.models import CreditEntry, EntryKind
from studio.credits.selectors import credit_balance
from studio.credits.services import credit_grant
from studio.themes import services as theme_services
from tests.e2e.browser import log_in, polled
from tests.factories import UserFactory
from tests.photos import corpus
from tests.photos.conftest import distinct_photos
from tests.photos.factories import ready_photos

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = 60_000  # ms: the pipeline runs in other threads on a machine that may be busy
EMAIL = "ada@example.test"
PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def studio(settings, live_server, astria_sandbox, request):
    """The studio as in production: callbacks reach the live server, a worker runs the tasks.
    Each style asks for 2 images rather than 8: every image goes through the same steps (painted,
    called back, downloaded, scored for likeness, stored), so 2 prove it, in a quarter of the time."""
    settings.PUBLIC_URL = live_server.url
    settings.IMAGES_PER_PROMPT = 2
    settings.STRIPE_SECRET_KEY = ""
    theme_services.catalogue_sync()
    request.getfixturevalue("celery_worker_real")
    return astria_sandbox


@pytest.fixture
def photo_files(tmp_path):
    """Five good photos and a web page renamed .jpg."""
    paths = []
    for index, data in enumerate(distinct_photos(5)):
        paths.append(tmp_path / f"IMG_{200 + index}.jpg")
        paths[-1].write_bytes(data)
    page = tmp_path / "holiday.jpg"
    page.write_bytes(corpus.HTML)
    return [*paths, page]


def sign_up(page, screens) -> None:
    page.goto("/")
    screens("landing")
    page.get_by_role("link", name="Create your free account").click()
    screens("signup")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(EMAIL)  # the page names the address

    # One click on the emailed link confirms and logs in.
    links = [re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body) for message in mail.outbox]
    page.goto(next(link.group(0) for link in links if link))
    expect(page.get_by_role("heading", name="My avatars")).to_be_visible()
    expect(page.locator("#credit-balance")).to_have_text("8 credits")  # the sign-up gift


def test_a_visitor_signs_up_and_gets_a_gallery_they_can_keep_or_delete(page, studio, photo_files, screens, tmp_path):
    sign_up(page, screens)

    # A new avatar.
    page.get_by_role("link", name="Create your first avatar").click()
    page.get_by_label("Who is this avatar of?").fill("Ada")
    page.get_by_label("The subject is a").select_option("woman")
    page.get_by_role("button", name="Continue to photos").click()

    # Photos: five pass the worker's checks, the web page is refused with its reason. The page's
    # script must be listening before files are chosen: wait for the page to have loaded.
    page.wait_for_url("**/photos/")
    page.get_by_label("Choose photos").set_input_files([str(path) for path in photo_files])
    expect(page.locator(".photo-card")).to_have_count(6, timeout=LONG)
    polled(page, expect(page.locator(".photo-card.is-accepted")).to_have_count, 5)
    refused = page.locator(".photo-card.is-rejected")
    expect(refused).to_contain_text("holiday.jpg")
    expect(refused).to_contain_text("web page")
    expect(page.get_by_role("status").filter(has_text="accepted").first).to_contain_text("5 photos accepted")
    screens("upload")

    # Styles: three themes and an idea of her own.
    page.get_by_role("link", name="Continue to styles").click()
    budget = page.locator("#budget")
    for theme in ("Golden hour", "Film noir", "Watercolour"):
        page.get_by_role("button", name=f"Choose {theme}").click()
        expect(page.locator(f"#theme-{theme.lower().replace(' ', '-')} .chosen-badge")).to_be_visible()
    page.get_by_label("Describe a picture").fill("me as a jazz singer in a smoky club")
    expect(page.locator("#custom-preview")).to_contain_text("Ada as a jazz singer in a smoky club")
    page.get_by_role("button", name="Add prompt").click()
    expect(budget).to_contain_text("4 of 14 styles")
    screens("styles")

    # Confirm and pay: 2 credits for training and 1 per prompt, from the 8 of the sign-up gift.
    budget.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Confirm your order")).to_be_visible()
    expect(page.get_by_text("4 styles, 8 images in all")).to_be_visible()
    screens("confirm")
    studio.set_delays(training=3600)  # training waits for us, so we watch the gallery fill in
    page.get_by_label("I am Ada in these photos").check()
    page.get_by_role("button", name="Confirm and start (6 credits)").click()

    # The gallery: training, then the images arrive while we watch, without a reload.
    expect(page.get_by_role("heading", name="Ada")).to_be_visible()
    expect(page.locator("#credit-balance")).to_have_text("2 credits")
    progress = page.locator("#avatar-progress")
    expect(progress).to_contain_text(re.compile("Paid: training starts|Training your model"))
    expect(progress.get_by_role("progressbar")).to_be_visible()
    expect(page.locator("#gallery .prompt-group")).to_have_count(4)
    page.evaluate("window.galleryPage = 'not reloaded'")
    screens("gallery-filling")

    avatar = Avatar.objects.get(user__email=EMAIL)
    tune_id = studio.wait_for(lambda: Avatar.objects.get(pk=avatar.pk).tune_id, timeout=60)
    studio.train_now(tune_id)

    images = page.locator("#gallery .image-tile img")
    polled(page, expect(images).to_have_count, 8)
    polled(page, expect(progress).to_contain_text, "Done")
    expect(progress.locator("progress")).to_have_count(0)
    assert page.evaluate("window.galleryPage") == "not reloaded"
    expect(images.first).to_have_js_property("complete", True)
    assert images.first.evaluate("img => img.naturalWidth") > 0  # a real thumbnail, served privately
    expect(page.locator("#prompt-" + str(avatar.prompts.get(label__icontains="jazz").pk))).to_contain_text(
        "2 images"
    )
    screens("gallery-done")

    # Favourite one image.
    first_tile = page.locator("#gallery .image-tile").first
    favourite = first_tile.get_by_role("button", name="Favourite")
    favourite.click()
    expect(favourite).to_have_attribute("aria-pressed", "true")
    assert GeneratedImage.objects.filter(avatar=avatar, is_favourite=True).count() == 1

    # Download everything as a zip, built by the worker.
    page.get_by_role("button", name="Download all as zip").click()
    download_link = page.get_by_role("link", name="Download zip")
    polled(page, expect(download_link).to_be_visible)
    expect(page.locator("#gallery-export")).to_contain_text("8 images")
    with page.expect_download() as download_info:
        download_link.click()
    zip_path = tmp_path / "gallery.zip"
    download_info.value.save_as(zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        names = [name for name in archive.namelist() if name.lower().endswith(".jpg")]
        assert len(names) == 8
        assert archive.read(names[0])[:3] == b"\xff\xd8\xff"  # JPEG

    # Delete the avatar through its confirmation page.
    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name="Delete “Ada”?")).to_be_visible()
    expect(page.get_by_text("8 generated images")).to_be_visible()
    expect(page.get_by_text("which we also delete at Astria")).to_be_visible()
    screens("delete")
    page.get_by_role("button", name="Delete everything").click()

    expect(page.get_by_role("heading", name="My avatars")).to_be_visible()
    expect(page.get_by_text("“Ada” and everything in it were deleted.")).to_be_visible()
    expect(page.get_by_text("No avatars yet")).to_be_visible()
    assert not Avatar.objects.filter(pk=avatar.pk).exists()
    assert not GeneratedImage.objects.filter(avatar_id=avatar.pk).exists()
    studio.wait_for(lambda: AstriaTuneDeletion.objects.filter(tune_id=tune_id, done_at__isnull=False).exists(),
                    timeout=60)
    assert credit_balance(user=avatar.user) == 2  # deleting is not a refund


def ready_draft(user, name: str) -> Avatar:
    """An avatar with four accepted photos (the upload is the journey's) and three themes."""
    avatar = avatar_services.avatar_create(user=user, name=name, subject_class=SubjectClass.WOMAN)
    ready_photos(avatar, 4)
    for slug in ("golden-hour", "film-noir", "watercolour"):
        theme_services.theme_choose(avatar=avatar, theme_slug=slug)
    return avatar


def test_the_operator_sees_a_stuck_avatar_on_the_dashboard_and_refunds_it(page, studio):
    studio.set_delays(training=3600)  # the customer's avatar never finishes training
    customer = UserFactory(email="customer@example.test")
    credit_grant(user=customer, amount=10, key="e2e:welcome", reason="Welcome")
    avatar = ready_draft(customer, "Grace")
    avatar_services.avatar_confirm(user=customer, avatar_id=avatar.pk, consent=True)
    studio.wait_for(lambda: Avatar.objects.get(pk=avatar.pk).tune_id, timeout=60)  # at Astria, training
    stuck = Avatar.objects.get(pk=avatar.pk)
    assert stuck.state in (AvatarState.SUBMITTED, AvatarState.TRAINING)
    assert credit_balance(user=customer) == 10 - 5  # 2 for training, 1 for each of 3 prompts

    log_in(page, UserFactory(email="support@example.test", is_staff=True, is_superuser=True))
    page.goto("/staff/dashboard/")
    pending = page.locator("#pending")
    expect(pending.get_by_role("heading", name="Oldest pending jobs")).to_be_visible()
    expect(pending.get_by_role("link", name="Grace")).to_be_visible()
    pending.get_by_role("link", name="Grace").click()
    expect(page.get_by_text(str(stuck.tune_id)).first).to_be_visible()  # the avatar's admin page

    page.goto("/admin/avatars/avatar/")
    # At 1280 px the side menu starts folded, so every column of the list is in sight.
    expect(page.locator("#nav-sidebar")).to_have_attribute("aria-expanded", "false")
    assert page.locator("#changelist .results").evaluate("list => list.scrollWidth <= list.clientWidth")
    row = page.locator("#result_list tbody tr").filter(has_text="Grace")
    expect(row).to_contain_text(stuck.get_state_display())
    row.get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(
        label="Refund: stop if unfinished and give back the credits not yet refunded"
    )
    page.get_by_role("button", name="Go").click()

    expect(page.get_by_text("5 credit(s) refunded.")).to_be_visible()
    expect(page.locator("#result_list tbody tr").filter(has_text="Grace")).to_contain_text("Failed")
    page.get_by_role("button", name="Toggle navigation").click()  # opened, it stays open
    page.reload()
    expect(page.locator("#nav-sidebar")).to_have_attribute("aria-expanded", "true")
    assert credit_balance(user=customer) == 10
    ledger = CreditEntry.objects.filter(user=customer)
    totals = {kind: sum(entry.amount for entry in ledger if entry.kind == kind) for kind in EntryKind.values}
    assert totals[EntryKind.GRANT] == 10 and totals[EntryKind.SPEND] == -5 and totals[EntryKind.REFUND] == 5
    assert sum(totals.values()) == credit_balance(user=customer)  # the wallet agrees with its ledger


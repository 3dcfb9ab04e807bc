"""Every main page on a phone, on a laptop and at 200% zoom: nothing scrolls sideways, the
keyboard focus is always visible, no page shows the AI's trigger word (`sks`, `ohwx`) in its
text or its images' alternative text, and on the laptop axe-core finds nothing against its
accessibility rules (names, labels, contrast, landmarks, roles).

Set SCREENSHOTS=<folder> to keep a full-page picture of each page at each size, to look at.
"""

import functools
import io
import os
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from astria_sandbox.render import render_prompt_image
from studio.avatars.models import AvatarState, GeneratedImage, PromptState, SubjectClass
from studio.credits.models import CreditPurchase
from studio.credits.purchases import purchase_pay_test
from studio.credits.services import credit_grant
from studio.teams import services as team_services
from studio.teams.models import Membership
from studio.themes import services as theme_services
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.credits.factories import PurchaseFactory
from tests.e2e.browser import assert_accessible, log_in
from tests.factories import AvatarFactory, UserFactory
from tests.photos.factories import clean_photo, ready_photos

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {
    "390": {"viewport": {"width": 390, "height": 844}},
    "1280": {"viewport": {"width": 1280, "height": 720}},
    # 200% zoom on a 1280 px window lays the page out like a 640 px window at twice the pixels.
    "640x2": {"viewport": {"width": 640, "height": 900}, "device_scale_factor": 2},
}


@functools.cache
def _painted(text: str, index: int) -> tuple[bytes, bytes, tuple[int, int]]:
    """A sandbox render of the prompt and its 640 px WebP thumbnail, painted once for all sizes."""
    data = render_prompt_image(
        photos=[clean_photo(0).jpeg], text=text, prompt_id=1, index=index, num_images=8, seed=7
    )
    thumb = io.BytesIO()
    small = Image.open(io.BytesIO(data))
    small.thumbnail((640, 640))
    small.save(thumb, "WEBP", quality=80)
    return data, thumb.getvalue(), small.size


def rendered_image(prompt, index: int) -> GeneratedImage:
    """An image like the ones the pipeline stores: a 1024 px render and a 640 px WebP thumbnail."""
    data, thumb, (thumb_width, thumb_height) = _painted(prompt.text, index)
    return GeneratedImageFactory(
        prompt=prompt, avatar=prompt.avatar, index=index, width=1024, height=1024, thumb_width=thumb_width,
        thumb_height=thumb_height, bytes=len(data), image=ContentFile(data, name="full.jpg"),
        thumbnail=ContentFile(thumb, name="thumb.webp"),
    )


THEMES = [
    ("Golden hour", "candid outdoor portrait of sks woman in a wildflower meadow at golden hour"),
    ("Film noir", "1940s film noir movie still of sks woman, trench coat and fedora"),
    ("Watercolour", "delicate watercolour portrait of sks woman, loose expressive brushstrokes"),
]


@pytest.fixture
def studio_world(settings):
    """One customer with avatars in every state, some credits and a purchase."""
    settings.STRIPE_SECRET_KEY = ""
    theme_services.catalogue_sync()
    user = UserFactory(email="ada.lovelace@example.test")
    credit_grant(user=user, amount=12, key="screens:gift", reason="Welcome gift")
    purchase = PurchaseFactory(user=user, provider=CreditPurchase.Provider.TEST, provider_session_id="")
    purchase_pay_test(user=user, purchase_id=purchase.pk)
    now = timezone.now()

    done = AvatarFactory(user=user, name="Ada", state=AvatarState.DONE, tune_id=1_000_101, finished_at=now)
    for position, (label, text) in enumerate(THEMES):
        prompt = PromptFactory(avatar=done, position=position, label=label, text=text, state=PromptState.DONE)
        for index in range(4):
            rendered_image(prompt, index)
    GeneratedImage.objects.filter(avatar=done, index=1).update(is_favourite=True)
    # Scored for likeness: two film-noir portraits may not look like her (collapsed in the gallery).
    for index, score in enumerate((0.92, 0.81, 0.64, 0.57)):
        GeneratedImage.objects.filter(avatar=done, index=index).update(likeness=score, face_found=True)
    GeneratedImage.objects.filter(avatar=done, prompt__position=1, index__gte=2).update(likeness=0.2)

    generating = AvatarFactory(
        user=user, name="Biscuit", subject_class=SubjectClass.DOG, state=AvatarState.GENERATING, tune_id=1_000_102
    )
    for position, (label, text) in enumerate(THEMES):
        state = PromptState.DONE if position == 0 else PromptState.SUBMITTED
        prompt = PromptFactory(avatar=generating, position=position, label=label, text=text, state=state)
        if state == PromptState.DONE:
            for index in range(8):
                rendered_image(prompt, index)

    AvatarFactory(
        user=user, name="Grace", state=AvatarState.TRAINING, tune_id=1_000_103, submitted_at=now - timedelta(minutes=4),
        tune_eta=now + timedelta(minutes=11),
    )
    AvatarFactory(
        user=user, name="Alan", state=AvatarState.FAILED, failure_reason="Astria could not train on these photos.",
    )

    draft = AvatarFactory(user=user, name="Marie", subject_class=SubjectClass.WOMAN)
    ready_photos(draft, 5)
    for slug in ("golden-hour", "film-noir", "watercolour"):
        theme_services.theme_choose(avatar=draft, theme_slug=slug)
    theme_services.custom_prompt_add(avatar=draft, text="me as a jazz singer in a smoky club")

    # Her company's team: she owns it; a colleague finished and chose a favourite, another is invited.
    team = team_services.organisation_create(user=user, name="Analytical Engines Ltd")
    colleague = UserFactory(email="charles.babbage@example.test")
    link = team_services.invite_link_create(organisation=team, created_by=user, max_uses=10, days=14)
    membership = team_services.invite_accept(user=colleague, token=team_services.invite_token(link))
    portrait = AvatarFactory(user=colleague, name="Charles", state=AvatarState.DONE, pool=team.pool, finished_at=now)
    prompt = PromptFactory(avatar=portrait, position=0, label=THEMES[0][0], text=THEMES[0][1], state=PromptState.DONE)
    for index in range(2):
        rendered_image(prompt, index)
    GeneratedImage.objects.filter(avatar=portrait, index=0).update(is_favourite=True)
    Membership.objects.filter(pk=membership.pk).update(avatar=portrait)
    team_services.invite_by_email(organisation=team, created_by=user, emails=["grace.hopper@example.test"])
    admin = team_services.invite_accept(user=UserFactory(email="augusta.king@example.test"),
                                        token=team_services.invite_token(link))
    Membership.objects.filter(pk=admin.pk).update(role=Membership.Role.ADMIN)
    return {
        "user": user, "done": done, "generating": generating, "draft": draft, "team": team, "purchase": purchase,
        "join": f"/teams/join/{team_services.invite_token(link)}/",
        "portrait": GeneratedImage.objects.filter(avatar=done).order_by("prompt__position", "index").first(),
    }


def pages(world) -> list[tuple[str, str]]:
    done, generating, draft = world["done"], world["generating"], world["draft"]
    return [
        ("my-avatars", "/avatars/"),
        ("new-avatar", "/avatars/new/"),
        ("upload", f"/avatars/{draft.pk}/photos/"),
        ("styles", f"/avatars/{draft.pk}/styles/"),
        ("confirm", f"/avatars/{draft.pk}/confirm/"),
        ("gallery-filling", f"/avatars/{generating.pk}/"),
        ("gallery-done", f"/avatars/{done.pk}/"),
        ("generate-more", f"/avatars/{done.pk}/more/"),
        ("delete", f"/avatars/{done.pk}/delete/"),
        ("edit", f"/avatars/{done.pk}/images/{world['portrait'].pk}/edit/"),
        ("account", "/account/"),
        ("account-delete", "/account/delete/"),
        ("credits", "/credits/"),
        ("credits-buy", "/credits/buy/"),
        ("purchase", f"/credits/purchases/{world['purchase'].pk}/"),
        ("change-password", "/accounts/password/change/"),
        ("teams", "/teams/"),
        ("team", f"/teams/{world['team'].pk}/"),
        ("team-manage", f"/teams/{world['team'].pk}/manage/"),
        ("team-delete", f"/teams/{world['team'].pk}/delete/"),
    ]


def overflow(page) -> list[str]:
    """What sticks out sideways: the page's width beyond the window, and the elements doing it."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width) return [];
            const right = el => Math.round(el.getBoundingClientRect().right);
            return [...document.querySelectorAll("body *")]
                .filter(el => right(el) > width + 1 && getComputedStyle(el).position !== "fixed")
                .slice(0, 8)
                .map(el => `${el.tagName.toLowerCase()}.${el.className} (right edge ${right(el)} of ${width})`);
        }"""
    )


# What decides how the focused element looks: the style rules that apply to it and to each of its
# ancestors (an outline can be clipped by a parent), its tag, type and own style attribute, and
# whether it lies wholly in the window, uncovered. A stop alike in all of these on an earlier page
# (the header's links, say, or the tenth tile of a grid) looks the same, so it is not checked again.
# Null once the focus is back on the page itself.
FOCUS_STOP = """() => {
    const el = document.activeElement;
    if (el === document.body) return null;
    if (!window.focusStopRules) {  // once per page: its style sheets do not change
        const rules = [], pseudoElement = /::?(before|after|placeholder|marker)\\b/g;
        for (const sheet of document.styleSheets) {
            let position = 0;  // a rule is named by its sheet and its place there (or its text, inline)
            const collect = (list, applies) => {
                for (const rule of list) {
                    position += 1;
                    if (rule.selectorText && applies) {
                        const name = sheet.href ? `${sheet.href}#${position}` : rule.cssText;
                        rules.push([rule.selectorText.replace(pseudoElement, ""), name]);
                    } else if (rule.cssRules) {
                        collect(rule.cssRules, applies && (!rule.media || matchMedia(rule.media.mediaText).matches));
                    }
                }
            };
            collect(sheet.cssRules, true);
        }
        window.focusStopRules = rules;
    }
    const matching = node => window.focusStopRules.filter(([selector]) => {
        try { return node.matches(selector); } catch { return false; }
    }).map(([, name]) => name).join(" ");
    // An ancestor holds the focus whenever it is one, so what it matches is worked out once a page.
    window.focusStopAncestors ||= new WeakMap();
    const ancestors = [];
    for (let node = el.parentElement; node; node = node.parentElement) {
        if (!window.focusStopAncestors.has(node)) window.focusStopAncestors.set(node, matching(node));
        ancestors.push(window.focusStopAncestors.get(node));
    }
    const box = el.getBoundingClientRect();
    const inView = box.left >= 0 && box.top >= 0 && box.right <= innerWidth && box.bottom <= innerHeight;
    const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    const uncovered = !!top && (el.contains(top) || [...(el.labels || [])].some(label => label.contains(top)));
    return JSON.stringify([el.tagName, el.type || "", el.getAttribute("style"), matching(el), ancestors,
                           inView, uncovered]);
}"""


def shoot(page, name: str, size: str, *, full_page: bool = True) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}-{size}.png"), full_page=full_page)


# Everything a customer can read or hear on the page: its text, alternative texts, titles, labels
# and the captions the lightbox shows.
READABLE = """() => [document.body.innerText, document.title,
    ...[...document.querySelectorAll("[alt], [title], [aria-label], [data-caption], [data-title]")].flatMap(
        el => ["alt", "title", "aria-label", "data-caption", "data-title"].map(name => el.getAttribute(name) || ""))
].join("\\n")"""
TRIGGER_WORD = re.compile(r"\b(sks|ohwx)\b", re.IGNORECASE)


AXE_SIZE = "1280"  # its rules hardly depend on the width: one size is enough


def look_at(page, name: str, size: str) -> None:
    expect(page.locator("main h1").first).to_be_visible()
    page.evaluate("() => document.fonts.ready")
    assert overflow(page) == [], f"{name} at {size} scrolls sideways"
    shown = TRIGGER_WORD.findall(page.evaluate(READABLE))
    assert not shown, f"{name} at {size} shows the AI's trigger word: {shown}"
    if size == AXE_SIZE:
        assert_accessible(page, name)
    shoot(page, name, size)


@pytest.mark.parametrize("size", SIZES)
def test_every_page_fits_and_shows_where_the_focus_is(size, browser, live_server, studio_world, focus_shows):
    context = browser.new_context(base_url=live_server.url, reduced_motion="reduce", **SIZES[size])
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        public = [("landing", "/"), ("sign-up", "/accounts/signup/"), ("log-in", "/accounts/login/"),
                  ("privacy", "/privacy/"), ("terms", "/terms/"), ("faq", "/faq/"), ("contact", "/support/"),
                  ("contact-sent", "/support/sent/"), ("check-your-inbox", "/accounts/confirm-email/"),
                  ("password-reset", "/accounts/password/reset/"), ("team-join", studio_world["join"])]
        for name, path in public:
            page.goto(path)
            look_at(page, name, size)

        log_in(page, studio_world["user"])

        checked = set()
        for name, path in pages(studio_world):
            page.goto(path)
            look_at(page, name, size)

            # The first stops of the keyboard: the skip link, then each one visibly focused.
            page.locator("body").focus()
            page.keyboard.press("Tab")
            expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
            for step in range(20):
                page.keyboard.press("Tab")
                stop = page.evaluate(FOCUS_STOP)
                if stop is None:
                    break  # past the last stop
                if stop in checked:
                    continue
                checked.add(stop)
                assert focus_shows(page), f"{name} at {size}: no visible focus on stop {step + 2}: " + page.evaluate(
                    "() => document.activeElement.outerHTML.slice(0, 120)"
                )

        page.goto(f"/teams/{studio_world['team'].pk}/manage/#admins")
        page.get_by_text("Make owner").click()  # handing ownership on asks again, inside the page
        expect(page.get_by_role("button", name="Hand ownership to augusta.king@example.test")).to_be_visible()
        assert overflow(page) == [], f"handing ownership on at {size} scrolls sideways"
        shoot(page, "team-manage-owner", size)

        page.goto(f"/avatars/{studio_world['done'].pk}/")
        page.locator("#gallery .lightbox-link").first.click()
        expect(page.get_by_role("dialog")).to_be_visible()
        expect(page.locator(".lightbox-image")).to_have_js_property("complete", True)
        shoot(page, "lightbox", size, full_page=False)
        assert overflow(page) == []
        if size == AXE_SIZE:
            assert_accessible(page, "lightbox")
    finally:
        context.close()

import re

import pytest
from playwright.sync_api import expect

from studio.avatars.models import SubjectClass
from studio.credits.services import credit_grant
from studio.themes import services
from studio.themes.models import ChosenTheme, CustomPrompt
from tests.avatars.factories import PromptFactory
from tests.e2e.browser import log_in
from tests.factories import AvatarFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_choosing_styles_updates_the_budget_meter_in_place(page):
    services.catalogue_sync()
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Ada", subject_class=SubjectClass.WOMAN)
    log_in(page, user)

    page.goto(f"/avatars/{avatar.pk}/styles/")
    budget = page.locator("#budget")
    expect(budget).to_contain_text("0 of 14 styles")
    expect(budget).to_contain_text("Choose at least one style")
    page.evaluate("window.studioMarker = 'still the same page'")

    page.get_by_role("button", name="Choose Golden hour").click()
    expect(budget).to_contain_text("1 of 14 styles")
    expect(budget.locator("dd").first).to_have_text("8")
    expect(budget.locator("dd").nth(1)).to_have_text("3")
    expect(page.locator("#theme-golden-hour .chosen-badge")).to_have_text("✓ Chosen")

    page.get_by_role("link", name="Fantasy").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?tag=fantasy$"))
    expect(page.get_by_role("link", name="Fantasy")).to_be_focused()  # the picker was swapped around it
    page.get_by_role("button", name="Choose Viking").click()
    expect(budget).to_contain_text("2 of 14 styles")
    expect(page.get_by_role("button", name="Choose Corporate headshot")).to_have_count(0)  # still filtered
    expect(budget.get_by_role("link", name="Continue")).to_have_attribute(
        "href", f"/avatars/{avatar.pk}/confirm/"
    )

    page.get_by_label("Describe a picture").fill("I am a jazz singer in a smoky club")
    expect(page.locator("#custom-preview")).to_contain_text("Ada as a jazz singer in a smoky club")
    page.get_by_role("button", name="Add prompt").click()
    expect(budget).to_contain_text("3 of 14 styles")
    expect(page.get_by_role("button", name="Add prompt")).to_be_focused()  # ready for the next one
    expect(page.locator("#custom-prompts")).to_contain_text("Ada as a jazz singer in a smoky club")
    expect(page.get_by_label("Describe a picture")).to_have_value("")

    page.get_by_label("Search the prompt library").fill("samurai")
    results = page.locator("#library-results")
    expect(results).to_contain_text("Samurai")
    results.get_by_role("button", name="Use this: Samurai").click()
    expect(budget).to_contain_text("4 of 14 styles")
    expect(page.locator("#prompt-preview")).to_contain_text("Ada as a samurai in ornate armour")
    expect(page.locator("#styles-step-count")).to_have_text("4 styles chosen")

    page.get_by_role("link", name="All", exact=True).click()
    expect(page).to_have_url(re.compile(r"/styles/$"))
    page.get_by_role("button", name="Remove Golden hour").click()
    expect(budget).to_contain_text("3 of 14 styles")
    assert page.evaluate("window.studioMarker") == "still the same page"
    assert ChosenTheme.objects.filter(avatar=avatar).count() == 1
    assert CustomPrompt.objects.filter(avatar=avatar).count() == 2

    own = page.locator("#custom-prompts")
    page.wait_for_load_state("networkidle")  # the last answer's parts swapped in, not racing the key press
    own.get_by_role("button", name=re.compile(r"^Remove .*jazz singer")).focus()
    page.keyboard.press("Enter")
    expect(own).not_to_contain_text("jazz singer")
    expect(own.get_by_role("button", name=re.compile(r"^Remove .*samurai"))).to_be_focused()  # the next one
    assert CustomPrompt.objects.filter(avatar=avatar).count() == 1


def test_the_styles_page_works_without_javascript(browser, live_server):
    services.catalogue_sync()
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Biscuit", subject_class=SubjectClass.DOG)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, user)
        page.goto(f"/avatars/{avatar.pk}/styles/")

        page.get_by_role("button", name="Choose Studio pet portrait").click()
        expect(page.locator("#budget")).to_contain_text("1 of 14 styles")
        page.get_by_label("Describe a picture").fill("my dog naked")
        page.get_by_role("button", name="Add prompt").click()
        expect(page.locator("#custom-prompts")).to_contain_text("“naked” is not allowed")
        expect(page.get_by_label("Describe a picture")).to_have_value("my dog naked")
        page.get_by_label("Describe a picture").fill("my dog surfing a big wave")
        page.get_by_role("button", name="Add prompt").click()
        expect(page.locator("#custom-prompts")).to_contain_text("Biscuit surfing a big wave")
        expect(page.locator("#budget")).to_contain_text("2 of 14 styles")
    finally:
        context.close()


def test_generate_more_uses_the_same_picker_meter_preview_and_price_panel(page):
    services.catalogue_sync()
    user = UserFactory()
    avatar = AvatarFactory(user=user, name="Ada", subject_class=SubjectClass.WOMAN, state="done", tune_id=1_000_201)
    PromptFactory(avatar=avatar, position=0, theme_slug="golden-hour", label="Golden hour")
    credit_grant(user=user, amount=1, key="e2e:more", reason="Gift")
    log_in(page, user)

    page.goto(f"/avatars/{avatar.pk}/more/")
    budget = page.locator("#budget")
    expect(budget).to_contain_text("1 of 14 styles")  # the avatar's own prompt counts
    expect(page.get_by_label("Choose").first).to_be_visible()
    expect(page.locator("#pick-golden-hour")).to_have_count(0)  # a style it has is left out
    page.evaluate("window.studioMarker = 'still the same page'")

    page.locator("#pick-film-noir").check()
    expect(budget).to_contain_text("2 of 14 styles")
    expect(page.locator("#prompt-preview")).to_contain_text("Film noir")
    page.get_by_label("Your own ideas").fill("me as a jazz pianist")
    expect(page.locator("#prompt-preview")).to_contain_text("Ada as a jazz pianist")
    expect(budget.locator("dd").nth(1)).to_have_text("2")
    assert page.evaluate("window.studioMarker") == "still the same page"

    # One credit short: the panel links to buying, and buying comes back to this selection.
    expect(budget).to_contain_text("You need 1 more credit")
    budget.get_by_role("link", name="Buy credits").click()
    page.get_by_role("button", name="Buy 20 credits").click()
    page.get_by_role("button", name=re.compile("Pay")).click()
    page.get_by_role("link", name="Continue where you left off").click()
    expect(page.locator("#pick-film-noir")).to_be_checked()
    expect(page.get_by_label("Your own ideas")).to_have_value("me as a jazz pianist")
    expect(budget.get_by_role("button", name="Generate (2 credits)")).to_be_visible()

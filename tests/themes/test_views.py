import pytest
from django.urls import reverse

from studio.avatars.models import Avatar
from studio.themes import services
from studio.themes.models import ChosenTheme, CustomPrompt
from tests.factories import AvatarFactory
from tests.helpers import HTMX
from tests.themes.factories import PromptIdeaFactory, ThemeFactory

pytestmark = pytest.mark.django_db


def styles_url(avatar, **query):
    url = reverse("themes:styles", args=[avatar.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def choose_url(avatar, slug):
    return reverse("themes:theme_choose", args=[avatar.pk, slug])


# --- The full page ------------------------------------------------------------------------------


def test_styles_page_needs_login(client, avatar):
    response = client.get(styles_url(avatar))

    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_someone_elses_avatar_is_not_found(client, other_user, avatar, catalogue):
    client.force_login(other_user)
    slug = "golden-hour"

    assert client.get(styles_url(avatar)).status_code == 404
    assert client.post(choose_url(avatar, slug)).status_code == 404
    assert client.post(reverse("themes:custom_add", args=[avatar.pk]), {"text": "me"}).status_code == 404
    assert client.get(reverse("prompt_search"), {"avatar": avatar.pk}).status_code == 404
    assert not ChosenTheme.objects.exists()


def test_styles_page_shows_the_themes_that_suit_the_subject(user_client, avatar, catalogue):
    response = user_client.get(styles_url(avatar))
    html = response.content.decode()

    assert response.status_code == 200
    assert "Corporate headshot" in html and "Golden hour" in html
    assert "Studio pet portrait" not in html and "Storybook" not in html
    assert 'src="/static/themes/covers/corporate-headshot.webp"' in html
    assert 'alt="A suited silhouette against a soft grey studio backdrop"' in html
    assert "<strong>0</strong> of 14 styles" in html
    assert "Choose at least one style or write a prompt of your own." in html
    assert "/confirm/" not in html
    assert "<script>" not in html and "<style" not in html and " style=" not in html


def test_a_dogs_styles_page_offers_pet_themes(user_client, dog, catalogue):
    html = user_client.get(styles_url(dog)).content.decode()

    assert "Studio pet portrait" in html and "Royal portrait" in html
    assert "Corporate headshot" not in html
    assert 'src="/static/themes/covers/royal-portrait-pet.webp"' in html
    assert "Write “my dog” where Biscuit should appear" in html


def test_a_pet_cover_missing_from_the_manifest_shows_the_default_cover(user_client, dog, catalogue, manifest_static):
    from studio.themes.models import Theme

    Theme.objects.filter(slug="royal-portrait").update(cover_pet="themes/covers/royal-portrait-pett.webp")

    response = user_client.get(styles_url(dog))

    html = response.content.decode()
    assert response.status_code == 200
    card = html[html.index('id="theme-royal-portrait"') :].split("</li>")[0]
    assert 'src="/static/themes/covers/_default.0123456789ab.webp"' in card
    assert 'src="/static/themes/covers/astronaut-pet.0123456789ab.webp"' in html


def test_the_page_shows_every_final_prompt_and_a_continue_link(user_client, avatar, catalogue):
    services.theme_choose(avatar=avatar, theme_slug="golden-hour")
    services.custom_prompt_add(avatar=avatar, text="me as a jazz singer")

    html = user_client.get(styles_url(avatar)).content.decode()

    assert "candid outdoor portrait of Ada in a wildflower meadow" in html
    assert "Ada as a jazz singer, highly detailed" in html and "sks" not in html
    assert "<strong>2</strong> of 14 styles" in html
    assert "<dt>Images</dt><dd>16</dd>" in html and "<dt>Credits</dt><dd>4</dd>" in html
    assert f'href="/avatars/{avatar.pk}/confirm/"' in html


def test_the_tag_filter_narrows_the_cards(user_client, avatar, catalogue):
    html = user_client.get(styles_url(avatar, tag="fantasy")).content.decode()

    assert "Elven ranger" in html and "Corporate headshot" not in html
    assert 'aria-current="true">Fantasy</a>' in html


def test_the_tag_filter_with_htmx_returns_only_the_picker(user_client, avatar, catalogue):
    response = user_client.get(styles_url(avatar, tag="professional"), headers=HTMX)
    html = response.content.decode()

    assert html.lstrip().startswith('<div id="theme-picker"')
    assert "<html" not in html and "Corporate headshot" in html and "Viking" not in html


def test_a_submitted_avatar_goes_back_to_its_page(user_client, avatar):
    Avatar.objects.filter(pk=avatar.pk).update(state=Avatar.State.QUEUED)

    response = user_client.get(styles_url(avatar))

    assert response.status_code == 302 and response.url == reverse("avatars:detail", args=[avatar.pk])


def test_avatar_page_links_to_styles_with_the_count(user_client, avatar, catalogue):
    services.theme_choose(avatar=avatar, theme_slug="golden-hour")

    html = user_client.get(reverse("avatars:detail", args=[avatar.pk]), follow=True).content.decode()

    assert f'href="{styles_url(avatar)}"' in html
    assert "1 style chosen" in html


# --- Choosing themes ----------------------------------------------------------------------------


def test_choosing_without_javascript_redirects_back_to_the_card(user_client, avatar, catalogue):
    response = user_client.post(choose_url(avatar, "golden-hour"), {"tag": "photo"})

    assert response.status_code == 302
    assert response.url == styles_url(avatar, tag="photo") + "#theme-golden-hour"
    assert ChosenTheme.objects.filter(avatar=avatar, theme__slug="golden-hour").exists()


def test_choosing_with_htmx_swaps_the_picker_and_updates_the_budget_out_of_band(
    user_client, avatar, catalogue
):
    response = user_client.post(choose_url(avatar, "golden-hour"), headers=HTMX)
    html = response.content.decode()

    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="theme-picker"')
    assert '<aside id="budget" class="budget" aria-labelledby="budget-heading" hx-swap-oob="true">' in html
    assert "<strong>1</strong> of 14 styles" in html
    assert 'id="prompt-preview"' in html and "wildflower meadow" in html
    assert (
        '<small id="styles-step-count" class="step-note" hx-swap-oob="true">1 style chosen</small>' in html
    )
    assert 'Remove<span class="visually-hidden"> Golden hour</span>' in html


def test_htmx_keeps_the_tag_filter_of_the_current_page(user_client, avatar, catalogue):
    current = "http://testserver" + styles_url(avatar, tag="fantasy")

    html = user_client.post(
        choose_url(avatar, "viking"), headers=HTMX | {"HX-Current-URL": current}
    ).content.decode()

    assert "Elven ranger" in html and "Corporate headshot" not in html


def test_a_forged_eighth_theme_is_refused(user_client, avatar, catalogue):
    slugs = [
        "corporate-headshot",
        "creative-studio",
        "golden-hour",
        "film-noir",
        "viking",
        "anime",
        "pop-art",
    ]
    for slug in slugs:
        services.theme_choose(avatar=avatar, theme_slug=slug)

    response = user_client.post(choose_url(avatar, "watercolour"), headers=HTMX)
    plain = user_client.post(choose_url(avatar, "watercolour"), follow=True)

    assert response.status_code == 422
    assert "You can choose up to 7 styles." in response.content.decode()
    assert "You can choose up to 7 styles." in plain.content.decode()
    assert ChosenTheme.objects.filter(avatar=avatar).count() == 7


def test_a_forged_fifteenth_prompt_is_refused(settings, user_client, avatar, themes):
    settings.FAIR_USE_MAX_THEME_PROMPTS = settings.FAIR_USE_MAX_CUSTOM_PROMPTS = 10
    for theme in themes[:9]:
        services.theme_choose(avatar=avatar, theme_slug=theme.slug)
    for number in range(5):
        services.custom_prompt_add(avatar=avatar, text=f"me as explorer number {number}")

    theme_response = user_client.post(choose_url(avatar, themes[9].slug), headers=HTMX)
    custom_response = user_client.post(reverse("themes:custom_add", args=[avatar.pk]), {"text": "me in Oslo"})

    assert theme_response.status_code == custom_response.status_code == 422
    assert "up to 14 prompts in all" in theme_response.content.decode()
    assert "up to 14 prompts in all" in custom_response.content.decode()
    assert ChosenTheme.objects.count() + CustomPrompt.objects.count() == 14


def test_the_page_disables_choosing_when_seven_themes_are_chosen(user_client, avatar, themes):
    for theme in themes[:7]:
        services.theme_choose(avatar=avatar, theme_slug=theme.slug)

    html = user_client.get(styles_url(avatar)).content.decode()

    assert f'id="theme-button-{themes[8].slug}" disabled' in html
    assert "the most one avatar can have" in html


def test_a_forged_theme_for_another_subject_is_refused(user_client, avatar, catalogue):
    response = user_client.post(choose_url(avatar, "pet-studio"), headers=HTMX)

    assert response.status_code == 422
    assert "That style is not available for Ada." in response.content.decode()
    assert not ChosenTheme.objects.exists()


def test_removing_a_theme(user_client, avatar, catalogue):
    services.theme_choose(avatar=avatar, theme_slug="golden-hour")

    response = user_client.post(reverse("themes:theme_remove", args=[avatar.pk, "golden-hour"]), headers=HTMX)

    assert response.status_code == 200 and "<strong>0</strong> of 14 styles" in response.content.decode()
    assert not ChosenTheme.objects.exists()


def test_get_is_not_allowed_on_actions(user_client, avatar, catalogue):
    assert user_client.get(choose_url(avatar, "golden-hour")).status_code == 405


# --- Own prompts --------------------------------------------------------------------------------


def test_adding_a_prompt_without_javascript(user_client, avatar):
    response = user_client.post(
        reverse("themes:custom_add", args=[avatar.pk]), {"text": "me in Rome at dawn"}
    )

    assert response.status_code == 302 and response.url.endswith("#custom")
    assert CustomPrompt.objects.get(avatar=avatar).template == "{subject} in Rome at dawn"


def test_adding_a_prompt_with_htmx_shows_its_final_text_and_updates_the_budget(user_client, avatar):
    response = user_client.post(
        reverse("themes:custom_add", args=[avatar.pk]), {"text": "me in Rome at dawn"}, headers=HTMX
    )
    html = response.content.decode()

    assert html.lstrip().startswith('<div id="custom-prompts"')
    assert "Ada in Rome at dawn, highly detailed" in html
    assert 'id="budget"' in html and "<strong>1</strong> of 14 styles" in html


def test_a_refused_prompt_comes_back_with_the_reason_and_the_text(user_client, avatar):
    url = reverse("themes:custom_add", args=[avatar.pk])

    plain = user_client.post(url, {"text": "me naked in Rome"})
    htmx = user_client.post(url, {"text": "me naked in Rome"}, headers=HTMX)

    for response in (plain, htmx):
        html = response.content.decode()
        assert response.status_code == 422
        assert "“naked” is not allowed" in html
        assert "me naked in Rome</textarea>" in html
    assert "<html" in plain.content.decode() and "<html" not in htmx.content.decode()
    assert not CustomPrompt.objects.exists()


def test_a_too_long_prompt_is_refused_without_losing_it(settings, user_client, avatar):
    settings.THEMES_CUSTOM_PROMPT_MAX_CHARS = 20
    text = "me walking along a very long beach at dawn"

    response = user_client.post(reverse("themes:custom_add", args=[avatar.pk]), {"text": text})

    assert response.status_code == 422
    assert "at most 20 characters" in response.content.decode()
    assert f"{text}</textarea>" in response.content.decode()


def test_a_forged_eighth_own_prompt_is_refused(user_client, avatar):
    for number in range(7):
        services.custom_prompt_add(avatar=avatar, text=f"me as explorer number {number}")

    response = user_client.post(reverse("themes:custom_add", args=[avatar.pk]), {"text": "me as the eighth"})

    assert response.status_code == 422
    assert "You can add up to 7 prompts of your own." in response.content.decode()
    assert CustomPrompt.objects.filter(avatar=avatar).count() == 7


def test_removing_a_prompt(user_client, avatar):
    prompt = services.custom_prompt_add(avatar=avatar, text="me in Rome")

    response = user_client.post(reverse("themes:custom_remove", args=[avatar.pk, prompt.pk]))

    assert response.status_code == 302 and not CustomPrompt.objects.exists()


def test_live_preview_shows_the_final_text_or_the_reason(user_client, avatar):
    url = reverse("themes:custom_preview", args=[avatar.pk])

    good = user_client.get(url, {"text": "I am a pirate"}, headers=HTMX).content.decode()
    bad = user_client.get(url, {"text": "me nude"}, headers=HTMX).content.decode()
    plain = user_client.get(url, {"text": "I am a pirate"})

    assert good.lstrip().startswith('<div id="custom-preview"') and "Ada as a pirate" in good and "sks" not in good
    assert "“nude” is not allowed" in bad
    assert plain.status_code == 200 and "<html" in plain.content.decode()
    assert (
        "Ada as a pirate" in plain.content.decode()
        and "I am a pirate</textarea>" in plain.content.decode()
    )


# --- The prompt library -------------------------------------------------------------------------


def test_library_search_with_htmx_returns_results_that_can_be_used_in_place(user_client, avatar, catalogue):
    response = user_client.get(
        reverse("prompt_search"), {"q": "samurai", "avatar": avatar.pk, "from": "styles"}, headers=HTMX
    )
    html = response.content.decode()

    assert html.lstrip().startswith('<div id="library-results"')
    assert "Samurai" in html and "Use this" in html
    assert 'hx-target="#custom-prompts"' in html


def test_library_page_works_without_javascript(user_client, avatar, catalogue):
    response = user_client.get(reverse("prompt_search"), {"q": "samurai", "avatar": avatar.pk})
    html = response.content.decode()

    assert response.status_code == 200 and "<h1>Prompt library</h1>" in html
    assert "Samurai" in html and "Use this" in html and 'hx-target="#custom-prompts"' not in html


def test_library_without_an_avatar_only_shows_ideas(user_client, catalogue):
    html = user_client.get(reverse("prompt_search"), {"q": "pirate"}).content.decode()

    assert "Pirate captain" in html and "Pirate pet" in html and "Use this" not in html


def test_the_styles_page_searches_the_library_without_javascript(user_client, dog, catalogue):
    html = user_client.get(styles_url(dog, q="pirate")).content.decode()

    assert "Pirate pet" in html and "Pirate captain" not in html
    assert 'value="pirate"' in html


def test_use_this_adds_the_idea_for_this_subject(user_client, dog):
    idea = PromptIdeaFactory(text="my pet as a pirate on a ship", suits="pets")

    response = user_client.post(reverse("themes:custom_add", args=[dog.pk]), {"idea": idea.pk}, headers=HTMX)

    assert response.status_code == 200
    assert "Biscuit as a pirate on a ship" in response.content.decode()
    assert CustomPrompt.objects.get(avatar=dog).idea == idea


def test_use_this_for_the_wrong_subject_says_why(user_client, avatar):
    idea = PromptIdeaFactory(text="my pet as a pirate on a ship", suits="pets")
    url = reverse("themes:custom_add", args=[avatar.pk])

    htmx = user_client.post(url, {"idea": idea.pk}, headers=HTMX)
    plain = user_client.post(url, {"idea": idea.pk}, follow=True)

    assert htmx.status_code == 422 and "That idea is not meant for a woman." in htmx.content.decode()
    assert "That idea is not meant for a woman." in plain.content.decode()
    assert not CustomPrompt.objects.exists()


def test_hidden_themes_chosen_earlier_can_still_be_removed(user_client, avatar):
    theme = ThemeFactory(title="Old style")
    services.theme_choose(avatar=avatar, theme_slug=theme.slug)
    theme.is_active = False
    theme.save()

    html = user_client.get(styles_url(avatar)).content.decode()

    assert "“Old style” is no longer offered." in html
    assert reverse("themes:theme_remove", args=[avatar.pk, theme.slug]) in html


def test_other_users_cannot_use_ideas_on_my_avatar(client, other_user, avatar):
    idea = PromptIdeaFactory(suits="people")
    client.force_login(other_user)

    assert client.post(reverse("themes:custom_add", args=[avatar.pk]), {"idea": idea.pk}).status_code == 404
    assert AvatarFactory(user=other_user) and not CustomPrompt.objects.exists()

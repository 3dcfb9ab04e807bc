"""One price story: the same units, from the same settings, wherever prices are told."""

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from studio.credits.packs import credit_packs, price_story
from studio.themes import services as theme_services
from tests.factories import AvatarFactory
from tests.photos.factories import ready_photos


def test_the_story_is_the_sign_up_gifts_avatar_in_the_settings_units(settings):
    story = price_story()

    assert (story.tune, story.per_style, story.images_per_style) == (2, 1, 8)
    assert (story.max_ours, story.max_own, story.max_styles) == (7, 7, 14)
    assert (story.example_styles, story.example_cost, story.full_cost) == (6, 8, 16)

    settings.CREDITS_PRICE_TUNE, settings.CREDITS_PRICE_PROMPT, settings.CREDITS_SIGNUP_GRANT = 5, 2, 15
    story = price_story()
    assert (story.example_styles, story.example_cost) == (5, 15)  # what the gift buys, training paid
    settings.CREDITS_SIGNUP_GRANT = 0
    assert price_story().example_styles == 6  # without a gift, a plain example


def test_packs_are_worth_the_storys_avatars(settings):
    assert [pack.example_avatars for pack in credit_packs()] == [2, 6, 15]  # 20, 50, 120 credits at 8
    settings.CREDITS_PRICE_TUNE, settings.CREDITS_SIGNUP_GRANT = 4, 0
    assert [pack.example_avatars for pack in credit_packs()] == [2, 5, 12]  # at 10


def words(response) -> str:
    return " ".join(strip_tags(response.content.decode()).split())


@pytest.mark.django_db
def test_every_page_that_names_prices_tells_the_same_story_from_the_settings(client, user, settings, stripe_off):
    settings.CREDITS_PRICE_TUNE, settings.CREDITS_PRICE_PROMPT, settings.CREDITS_SIGNUP_GRANT = 3, 2, 11
    settings.FAIR_USE_MAX_THEME_PROMPTS, settings.FAIR_USE_MAX_CUSTOM_PROMPTS = 5, 6
    theme_services.catalogue_sync()
    draft = AvatarFactory(user=user, name="Ada")
    ready_photos(draft, 4)
    theme_services.theme_choose(avatar=draft, theme_slug="golden-hour")
    client.force_login(user)
    story = (
        "Training your model costs 3 credits, and each style 2 credits for 8 portraits: "
        "an avatar with 4 styles = 11 credits. A style is one of ours or a prompt you write; "
        "an avatar can have up to 5 of ours and 6 of your own."
    )
    pages = [reverse("landing"), reverse("credits:history"), reverse("credits:buy"),
             reverse("avatars:confirm", args=[draft.pk]), reverse("support:terms"), reverse("support:faq")]

    for page in pages:
        text = words(client.get(page))
        assert story in text, page
        assert "14 styles" not in text and "complete avatar" not in text, page
    confirm = words(client.get(reverse("avatars:confirm", args=[draft.pk])))
    assert "Price: 5 credits (training 3 + 1 style \u00d7 2)" in confirm

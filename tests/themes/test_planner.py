import dataclasses

import pytest

from studio.avatars.models import SubjectClass
from studio.themes import services
from studio.themes.models import Theme
from studio.themes.planner import FairUseLeft, fair_use_left, plan_for_avatar, plan_more, room_left
from tests.avatars.factories import PromptFactory
from tests.factories import AvatarFactory
from tests.themes.factories import ThemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _prices(settings):
    settings.ASTRIA_BRANCH, settings.ASTRIA_TOKEN = "sd15", "sks"
    settings.CREDITS_PRICE_TUNE, settings.CREDITS_PRICE_PROMPT = 2, 1
    settings.IMAGES_PER_PROMPT = 8


def test_plan_lists_themes_then_own_prompts_with_final_text_images_and_cost(avatar):
    theme = ThemeFactory(
        title="Rainy street",
        prompt="photo of {subject} in the rain",
        aspect_ratio="4:5",
        cfg_scale=7.5,
        steps=30,
        negative_prompt="blurry",
    )
    services.theme_choose(avatar=avatar, theme_slug=theme.slug)
    custom = services.custom_prompt_add(avatar=avatar, text="me as a jazz singer in a smoky club")

    plan = plan_for_avatar(avatar=avatar)

    assert plan.is_valid and plan.errors == []
    assert (plan.theme_count, plan.custom_count, plan.prompt_count) == (1, 1, 2)
    assert plan.images == 16
    assert plan.credit_cost == 2 + 2 * 1
    assert plan.prompts_remaining == 12
    themed, own = plan.prompts
    assert themed.text == "photo of sks woman in the rain"
    assert themed.label == "Rainy street" and themed.theme == theme and themed.custom_prompt is None
    assert (themed.width, themed.height, themed.cfg_scale, themed.steps, themed.num_images) == (512, 640, 7.5, 30, 8)
    assert themed.negative_prompt.startswith("blurry, ") and "nsfw" in themed.negative_prompt
    assert own.text.startswith("sks woman as a jazz singer in a smoky club, ")
    assert own.label == "me as a jazz singer in…"
    assert own.custom_prompt == custom and own.key == f"custom:{custom.pk}"
    assert (own.width, own.height, own.cfg_scale) == (None, None, None)


def test_plan_is_frozen(avatar):
    plan = plan_for_avatar(avatar=avatar)

    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.credit_cost = 0


def test_an_empty_selection_cannot_be_confirmed(avatar):
    plan = plan_for_avatar(avatar=avatar)

    assert not plan.is_valid
    assert plan.errors == ["Choose at least one style or write a prompt of your own."]
    assert (plan.images, plan.prompts_remaining) == (0, 14)


def test_a_theme_hidden_after_it_was_chosen_is_left_out_with_an_error(avatar, themes):
    services.theme_choose(avatar=avatar, theme_slug=themes[0].slug)
    services.theme_choose(avatar=avatar, theme_slug=themes[1].slug)
    Theme.objects.filter(pk=themes[0].pk).update(is_active=False)

    plan = plan_for_avatar(avatar=avatar)

    assert [p.theme for p in plan.prompts] == [themes[1]]
    assert plan.errors == [f"“{themes[0].title}” is no longer offered. Remove it to continue."]


def test_flux_gets_the_lora_token_and_no_stable_diffusion_sampler_values(avatar):
    theme = ThemeFactory(aspect_ratio="4:5", cfg_scale=7, steps=30)
    services.theme_choose(avatar=avatar, theme_slug=theme.slug)

    prompt = plan_for_avatar(avatar=avatar, branch="flux1").prompts[0]

    assert prompt.text.startswith("portrait photo of ohwx woman")
    assert (prompt.width, prompt.height) == (896, 1152)
    assert (prompt.cfg_scale, prompt.steps) == (None, None)


def test_images_per_prompt_follows_settings_within_astrias_range(settings, avatar, themes):
    services.theme_choose(avatar=avatar, theme_slug=themes[0].slug)

    settings.IMAGES_PER_PROMPT = 4
    assert plan_for_avatar(avatar=avatar).images == 4
    settings.IMAGES_PER_PROMPT = 20
    assert plan_for_avatar(avatar=avatar).prompts[0].num_images == 8


def test_room_for_one_more_theme_or_own_prompt_closes_at_each_limit(settings):
    settings.FAIR_USE_MAX_THEME_PROMPTS = settings.FAIR_USE_MAX_CUSTOM_PROMPTS = 7
    settings.FAIR_USE_MAX_PROMPTS = 10

    assert room_left(theme_count=6, custom_count=0) == (True, True)
    assert room_left(theme_count=7, custom_count=0) == (False, True)
    assert room_left(theme_count=2, custom_count=7) == (True, False)
    assert room_left(theme_count=5, custom_count=5) == (False, False)  # ten prompts in all


def test_generate_more_charges_prompts_only_and_plans_only_what_is_left(avatar, themes):
    plan = plan_more(
        avatar=avatar,
        theme_slugs=[themes[0].slug, themes[1].slug, themes[0].slug],
        custom_texts=["me in Lisbon at dusk"],
        prompts_already_used=10,
    )

    assert plan.is_valid
    assert (plan.theme_count, plan.custom_count) == (2, 1)
    assert plan.credit_cost == 3
    assert plan.prompts_remaining == 1
    assert plan.prompts[2].text.startswith("sks woman in Lisbon at dusk, ")


def test_generate_more_past_the_fourteen_is_refused(avatar, themes):
    plan = plan_more(
        avatar=avatar, theme_slugs=[t.slug for t in themes[:3]], custom_texts=[], prompts_already_used=12
    )

    assert plan.errors == ["This avatar has 2 of its 14 styles left; choose at most 2."]


def test_generate_more_explains_refused_texts_and_unknown_themes(avatar):
    dog_theme = ThemeFactory(subject_classes=[SubjectClass.DOG])

    plan = plan_more(
        avatar=avatar,
        theme_slugs=[dog_theme.slug],
        custom_texts=["me naked", "me in Rome"],
        prompts_already_used=14,
    )

    assert plan.prompt_count == 1
    assert plan.errors[0] == f"The style “{dog_theme.slug}” is not available for this avatar."
    assert plan.errors[1].startswith("“me naked”: “naked” is not allowed")
    assert plan.errors[2] == "This avatar has 0 of its 14 styles left; choose at most 0."


def test_generate_more_counts_the_styles_and_own_prompts_the_avatar_already_has(avatar, themes):
    for position, theme in enumerate(themes[:7]):
        PromptFactory(avatar=avatar, position=position, theme_slug=theme.slug)
    PromptFactory(avatar=avatar, position=7, theme_slug="")

    an_eighth_style = plan_more(avatar=avatar, theme_slugs=[themes[7].slug], custom_texts=[])
    own_ideas = plan_more(avatar=avatar, theme_slugs=[], custom_texts=[f"me in Rome, take {n}" for n in range(6)])
    one_too_many = plan_more(avatar=avatar, theme_slugs=[], custom_texts=[f"me in Rome, take {n}" for n in range(7)])

    assert an_eighth_style.errors == ["This avatar has 0 of its 7 styles left; choose at most 0."]
    assert own_ideas.is_valid and own_ideas.prompts_remaining == 0
    assert one_too_many.errors[0] == "This avatar has 6 of its 7 prompts of your own left; write at most 6."
    assert fair_use_left(avatar=avatar) == FairUseLeft(themes=0, custom=6, total=6)


def test_what_is_left_never_exceeds_the_total(settings, avatar, themes):
    settings.FAIR_USE_MAX_PROMPTS = 10
    for position, theme in enumerate(themes[:3]):
        PromptFactory(avatar=avatar, position=position, theme_slug=theme.slug)

    assert fair_use_left(avatar=avatar) == FairUseLeft(themes=4, custom=7, total=7)


def test_the_real_catalogue_plans_for_a_woman_and_a_dog(catalogue, user):
    woman = AvatarFactory(user=user, subject_class=SubjectClass.WOMAN)
    dog = AvatarFactory(user=user, subject_class=SubjectClass.DOG)
    for slug in ("corporate-headshot", "golden-hour", "astronaut"):
        services.theme_choose(avatar=woman, theme_slug=slug)
    for slug in ("pet-studio", "royal-portrait"):
        services.theme_choose(avatar=dog, theme_slug=slug)

    woman_plan, dog_plan = plan_for_avatar(avatar=woman), plan_for_avatar(avatar=dog)

    assert [p.label for p in woman_plan.prompts] == ["Corporate headshot", "Golden hour", "Astronaut"]
    assert all("sks woman" in p.text and "{subject}" not in p.text for p in woman_plan.prompts)
    assert dog_plan.prompts[0].text.startswith("professional studio portrait of sks dog sitting nobly")
    assert (woman_plan.credit_cost, dog_plan.credit_cost) == (5, 4)

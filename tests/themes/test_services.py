
import pytest

from studio.avatars.models import Avatar, SubjectClass
from studio.themes import services
from studio.themes.exceptions import FairUseLimitReached, PromptRejected, SelectionLocked, ThemeUnavailable
from studio.themes.models import ChosenTheme, CustomPrompt
from tests.concurrency import run_together
from tests.factories import AvatarFactory
from tests.themes.factories import PromptIdeaFactory, ThemeFactory

pytestmark = pytest.mark.django_db


def test_choosing_a_theme_adds_it_once(avatar, themes):
    first = services.theme_choose(avatar=avatar, theme_slug=themes[0].slug)
    again = services.theme_choose(avatar=avatar, theme_slug=themes[0].slug)

    assert first == again
    assert ChosenTheme.objects.filter(avatar=avatar).count() == 1


def test_the_eighth_theme_is_refused(avatar, themes):
    for theme in themes[:7]:
        services.theme_choose(avatar=avatar, theme_slug=theme.slug)

    with pytest.raises(FairUseLimitReached, match="up to 7 styles"):
        services.theme_choose(avatar=avatar, theme_slug=themes[7].slug)
    assert ChosenTheme.objects.filter(avatar=avatar).count() == 7


def test_the_eighth_custom_prompt_is_refused(avatar):
    for number in range(7):
        services.custom_prompt_add(avatar=avatar, text=f"me as explorer number {number}")

    with pytest.raises(FairUseLimitReached, match="up to 7 prompts of your own"):
        services.custom_prompt_add(avatar=avatar, text="me as explorer number 8")
    assert CustomPrompt.objects.filter(avatar=avatar).count() == 7


def test_the_fifteenth_prompt_is_refused(settings, avatar, themes):
    settings.FAIR_USE_MAX_THEME_PROMPTS = settings.FAIR_USE_MAX_CUSTOM_PROMPTS = 10
    for theme in themes[:9]:
        services.theme_choose(avatar=avatar, theme_slug=theme.slug)
    for number in range(5):
        services.custom_prompt_add(avatar=avatar, text=f"me as explorer number {number}")

    # Neither kind is at its own limit of 10, but 14 prompts in all is.
    with pytest.raises(FairUseLimitReached, match="up to 14 prompts in all"):
        services.custom_prompt_add(avatar=avatar, text="me as the fifteenth explorer")
    with pytest.raises(FairUseLimitReached, match="up to 14 prompts in all"):
        services.theme_choose(avatar=avatar, theme_slug=themes[9].slug)
    assert (
        ChosenTheme.objects.filter(avatar=avatar).count() + CustomPrompt.objects.filter(avatar=avatar).count()
        == 14
    )


def test_removing_frees_a_place(avatar, themes):
    for theme in themes[:7]:
        services.theme_choose(avatar=avatar, theme_slug=theme.slug)

    assert services.theme_remove(avatar=avatar, theme_slug=themes[0].slug) is True
    assert services.theme_remove(avatar=avatar, theme_slug=themes[0].slug) is False
    services.theme_choose(avatar=avatar, theme_slug=themes[7].slug)
    assert ChosenTheme.objects.filter(avatar=avatar).count() == 7


def test_themes_that_do_not_suit_the_subject_or_are_hidden_are_refused(avatar):
    pets_only = ThemeFactory(subject_classes=["dog", "cat"])
    hidden = ThemeFactory(is_active=False)

    for slug in (pets_only.slug, hidden.slug, "no-such-theme"):
        with pytest.raises(ThemeUnavailable):
            services.theme_choose(avatar=avatar, theme_slug=slug)
    assert not ChosenTheme.objects.exists()


def test_selection_cannot_change_after_the_draft_stage(avatar, themes):
    services.theme_choose(avatar=avatar, theme_slug=themes[0].slug)
    prompt = services.custom_prompt_add(avatar=avatar, text="me in Rome")
    Avatar.objects.filter(pk=avatar.pk).update(state=Avatar.State.QUEUED)

    with pytest.raises(SelectionLocked):
        services.theme_choose(avatar=avatar, theme_slug=themes[1].slug)
    with pytest.raises(SelectionLocked):
        services.theme_remove(avatar=avatar, theme_slug=themes[0].slug)
    with pytest.raises(SelectionLocked):
        services.custom_prompt_add(avatar=avatar, text="me in Paris")
    with pytest.raises(SelectionLocked):
        services.custom_prompt_remove(avatar=avatar, custom_prompt_id=prompt.pk)
    assert ChosenTheme.objects.count() == 1 and CustomPrompt.objects.count() == 1


def test_custom_prompt_keeps_what_was_typed_the_cleaned_text_and_the_template(avatar):
    prompt = services.custom_prompt_add(avatar=avatar, text="  me as a\tknight <lora:12:1>  ")

    assert prompt.text == "  me as a\tknight <lora:12:1>  "
    assert prompt.cleaned == "me as a knight"
    assert prompt.template == "{subject} as a knight"


def test_forbidden_and_duplicate_custom_prompts_are_refused(avatar):
    services.custom_prompt_add(avatar=avatar, text="me in Rome")

    with pytest.raises(PromptRejected, match="already added"):
        services.custom_prompt_add(avatar=avatar, text="me   in Rome ")
    with pytest.raises(PromptRejected, match="not allowed"):
        services.custom_prompt_add(avatar=avatar, text="me nude in Rome")
    assert CustomPrompt.objects.count() == 1


def test_a_library_idea_becomes_a_prompt_for_the_subject(dog):
    idea = PromptIdeaFactory(text="my pet as a pirate on a ship", suits="pets")

    prompt = services.custom_prompt_add(avatar=dog, idea_id=idea.pk)

    assert prompt.idea == idea
    assert prompt.template == "{subject} as a pirate on a ship"


def test_library_ideas_for_other_subjects_or_hidden_are_refused(avatar):
    for idea in (PromptIdeaFactory(suits="pets"), PromptIdeaFactory(is_active=False)):
        with pytest.raises(PromptRejected):
            services.custom_prompt_add(avatar=avatar, idea_id=idea.pk)


def test_removing_someone_elses_prompt_changes_nothing(avatar, other_user):
    theirs = AvatarFactory(user=other_user)
    their_prompt = services.custom_prompt_add(avatar=theirs, text="me in Rome")

    assert services.custom_prompt_remove(avatar=avatar, custom_prompt_id=their_prompt.pk) is False
    assert CustomPrompt.objects.filter(pk=their_prompt.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_choices_never_exceed_the_limit():
    avatar = AvatarFactory(subject_class=SubjectClass.MAN)
    themes = ThemeFactory.create_batch(12)
    for theme in themes[:5]:
        services.theme_choose(avatar=avatar, theme_slug=theme.slug)
    racing = themes[5:]

    results = run_together(lambda i: services.theme_choose(avatar=avatar, theme_slug=racing[i].slug), len(racing))
    outcomes = ["refused" if isinstance(result, FairUseLimitReached) else "chosen" for result in results]

    assert sorted(outcomes) == ["chosen"] * 2 + ["refused"] * 5
    assert ChosenTheme.objects.filter(avatar=avatar).count() == 7

import pytest

from studio.avatars.models import SubjectClass
from studio.themes import selectors, services
from studio.themes.models import PromptIdea, Theme
from tests.themes.factories import PromptIdeaFactory, ThemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(db):
    """A library of our own, so the ranking is known exactly."""
    PromptIdea.objects.all().delete()
    return {
        "catwalk": PromptIdeaFactory(title="Runway", keywords="catwalk fashion model", text="me on a runway"),
        "cat": PromptIdeaFactory(
            title="Cat cafe", keywords="cat cafe cosy", text="me in a cafe full of kittens"
        ),
        "text_only": PromptIdeaFactory(
            title="Alley", keywords="alley night", text="me in an alley with a cat"
        ),
        "knight": PromptIdeaFactory(
            title="Knight", keywords="knight armour castle", text="me as a knight", suits="people"
        ),
        "pets": PromptIdeaFactory(
            title="Pet knight", keywords="knight pet", text="my pet as a knight", suits="pets"
        ),
    }


def _slugs(ideas):
    return [idea.slug for idea in ideas]


def test_an_exact_keyword_beats_a_partial_one(library):
    found = selectors.prompt_idea_search(query="cat")

    assert found[0] == library["cat"]
    assert library["catwalk"] in found
    assert found.index(library["cat"]) < found.index(library["catwalk"])


def test_a_word_that_starts_a_keyword_finds_it(library):
    assert selectors.prompt_idea_search(query="catw") == [library["catwalk"]]
    assert selectors.prompt_idea_search(query="armo") == [library["knight"]]


def test_keywords_count_more_than_the_text(library):
    found = selectors.prompt_idea_search(query="cat")

    assert found.index(library["cat"]) < found.index(library["text_only"])


def test_plurals_match_their_keyword(library):
    assert selectors.prompt_idea_search(query="knights")[0] == library["knight"]


def test_several_words_rank_ideas_matching_more_of_them_first(library):
    found = selectors.prompt_idea_search(query="knight castle")

    assert found[0] == library["knight"]


def test_the_ranking_is_exact_and_the_same_on_every_database(library):
    # A whole keyword, then part of a keyword, then a word of the text; equal scores keep the
    # library's order. The suite runs on SQLite and on PostgreSQL, so both rank exactly so.
    assert selectors.prompt_idea_search(query="cat") == [library["cat"], library["catwalk"], library["text_only"]]
    assert selectors.prompt_idea_search(query="knight") == [library["knight"], library["pets"]]
    library["pets"].position, library["knight"].position = library["knight"].position, library["pets"].position
    PromptIdea.objects.bulk_update([library["pets"], library["knight"]], ["position"])
    assert selectors.prompt_idea_search(query="knight") == [library["pets"], library["knight"]]
    assert selectors.prompt_idea_search(query="castle knights") == [library["knight"], library["pets"]]
    assert selectors.prompt_idea_search(query="walk") == [library["catwalk"]]  # inside a keyword


def test_results_suit_the_subject(library):
    for_people = selectors.prompt_idea_search(query="knight", subject_class=SubjectClass.MAN)
    for_pets = selectors.prompt_idea_search(query="knight", subject_class=SubjectClass.DOG)

    assert library["pets"] not in for_people and library["knight"] in for_people
    assert for_pets == [library["pets"]]


def test_no_words_gives_the_first_ideas_and_nonsense_gives_nothing(library):
    assert len(selectors.prompt_idea_search(query="  ", limit=3)) == 3
    assert selectors.prompt_idea_search(query="zzqx") == []
    assert selectors.prompt_idea_search(query="'); DROP TABLE --") == []


def test_hidden_ideas_are_not_found(library):
    PromptIdea.objects.filter(pk=library["knight"].pk).update(is_active=False)

    assert library["knight"] not in selectors.prompt_idea_search(query="knight")


def test_the_real_library_answers_common_searches(catalogue):
    for query, expected in [
        ("wedding", "wedding-day"),
        ("astronaut", "on-mars"),
        ("van gogh", "van-gogh"),
        ("samurai", "samurai"),
        ("christmas", "christmas-jumper"),
    ]:
        found = selectors.prompt_idea_search(query=query, subject_class=SubjectClass.WOMAN)
        assert found and found[0].slug == expected, query
    assert (
        selectors.prompt_idea_search(query="pirate", subject_class=SubjectClass.DOG)[0].slug == "pet-pirate"
    )


def test_themes_for_a_subject_are_active_suited_and_in_order(db):
    Theme.objects.all().delete()
    second = ThemeFactory(position=2, subject_classes=["woman"], tags=["art"])
    first = ThemeFactory(position=1, subject_classes=["woman", "dog"], tags=["photo", "art"])
    ThemeFactory(position=3, subject_classes=["dog"])
    ThemeFactory(position=0, subject_classes=["woman"], is_active=False)

    themes = selectors.theme_list_for_subject(subject_class="woman")

    assert themes == [first, second]
    assert selectors.theme_list_for_subject(subject_class="woman", tag="photo") == [first]
    assert selectors.theme_tags(themes) == ["photo", "art"]


def test_chosen_prompt_count_counts_themes_and_own_prompts(avatar, themes, django_assert_num_queries):
    services.theme_choose(avatar=avatar, theme_slug=themes[0].slug)
    services.custom_prompt_add(avatar=avatar, text="me in Rome")

    with django_assert_num_queries(2):
        assert selectors.chosen_prompt_count(avatar=avatar) == 2

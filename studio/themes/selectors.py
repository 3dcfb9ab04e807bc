"""Reads for the themes app. The avatar passed in was fetched through the user-scoped avatar
selector, so everything here is already limited to the user's own data."""

import re

from django.db.models import QuerySet

from studio.avatars.models import PET_CLASSES, Avatar
from studio.themes.models import ChosenTheme, CustomPrompt, PromptIdea, Theme

_TERM = re.compile(r"[^\W_]+")
MAX_SEARCH_TERMS = 8


def theme_list_for_subject(*, subject_class: str, tag: str = "") -> list[Theme]:
    """Active themes that suit the class, in catalogue order; only those with ``tag`` if given."""
    themes = [theme for theme in Theme.objects.filter(is_active=True) if theme.suits(subject_class)]
    return [theme for theme in themes if tag in theme.tags] if tag else themes


def theme_showcase(*, limit: int = 8) -> tuple[list[Theme], int]:
    """The first active themes with a cover, in catalogue order, and how many themes are offered."""
    themes = Theme.objects.filter(is_active=True)
    return list(themes.exclude(cover="")[:limit]), themes.count()


def theme_tags(themes: list[Theme]) -> list[str]:
    """The tags of these themes, in the order they first appear."""
    return list(dict.fromkeys(tag for theme in themes for tag in theme.tags))


def chosen_theme_list(*, avatar: Avatar) -> list[ChosenTheme]:
    return list(ChosenTheme.objects.filter(avatar=avatar).select_related("theme"))


def custom_prompt_list(*, avatar: Avatar) -> list[CustomPrompt]:
    return list(CustomPrompt.objects.filter(avatar=avatar))


def chosen_prompt_count(*, avatar: Avatar) -> int:
    """How many prompts (themes and own prompts) the avatar's selection has."""
    return (
        ChosenTheme.objects.filter(avatar=avatar).count() + CustomPrompt.objects.filter(avatar=avatar).count()
    )


def prompt_idea_get(*, idea_id: int) -> PromptIdea:
    """An active library idea; raises PromptIdea.DoesNotExist otherwise."""
    return PromptIdea.objects.get(pk=idea_id, is_active=True)


def prompt_idea_suits(idea: PromptIdea, *, subject_class: str) -> bool:
    group = PromptIdea.Suits.PETS if subject_class in PET_CLASSES else PromptIdea.Suits.PEOPLE
    return idea.suits in (PromptIdea.Suits.ALL, group)


def _ideas_for(subject_class: str | None) -> QuerySet[PromptIdea]:
    ideas = PromptIdea.objects.filter(is_active=True)
    if subject_class:
        group = PromptIdea.Suits.PETS if subject_class in PET_CLASSES else PromptIdea.Suits.PEOPLE
        ideas = ideas.filter(suits__in=[PromptIdea.Suits.ALL, group])
    return ideas


def prompt_idea_search(*, query: str, subject_class: str | None = None, limit: int = 12) -> list[PromptIdea]:
    """Library ideas matching the words of ``query``, best first; the first ideas when it is empty.

    A whole keyword counts more than a keyword that only starts with the word ("cat" finds a
    "cat" idea before a "catwalk" one); keywords count more than titles, titles more than the
    text. The library holds a few hundred ideas, so they are scored here in Python: the ranking
    is the same on every database.
    """
    ideas = _ideas_for(subject_class)
    terms = list(dict.fromkeys(_TERM.findall(query.lower())))[:MAX_SEARCH_TERMS]
    if not terms:
        return list(ideas[:limit])
    scored = [(score, idea) for idea in ideas if (score := _score(idea, terms))]
    scored.sort(key=lambda pair: (-pair[0], pair[1].position, pair[1].pk))
    return [idea for _, idea in scored[:limit]]


def _stem(word: str) -> str:
    for ending in ("ies", "es", "s"):
        if len(word) > len(ending) + 2 and word.endswith(ending):
            return word[: -len(ending)] + ("y" if ending == "ies" else "")
    return word


# (field, points for a whole word, points for a word that starts with or contains the term)
_FIELDS = (("keywords", 10, 4), ("title", 6, 2), ("text", 3, 1))


def _score(idea: PromptIdea, terms: list[str]) -> int:
    score = 0
    for term in terms:
        stem, best = _stem(term), 0
        for name, whole_points, part_points in _FIELDS:
            words = _TERM.findall(getattr(idea, name).lower())
            if any(_stem(word) == stem for word in words):
                best = max(best, whole_points)
            elif any(term in word for word in words):
                best = max(best, part_points)
        score += best
    return score


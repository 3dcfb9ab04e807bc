"""Writes for the themes app: the draft avatar's selection and loading the catalogue.

Every change to a selection locks the avatar's row first, then checks that it is still a draft
and that the fair-use limits hold, so forged or concurrent requests cannot go past them.
"""

from django.db import transaction

from studio.avatars.models import Avatar
from studio.teams.selectors import team_style_for_avatar
from studio.themes import catalogue, planner, prompting, selectors
from studio.themes.exceptions import FairUseLimitReached, PromptRejected, SelectionLocked, ThemeUnavailable
from studio.themes.models import ChosenTheme, CustomPrompt, PromptIdea, Theme


def _lock_draft(avatar: Avatar) -> Avatar:
    locked = Avatar.objects.select_for_update().get(pk=avatar.pk)
    if not locked.is_draft:
        raise SelectionLocked("This avatar has been submitted, so its styles can no longer change.")
    return locked


def _check_limits(*, avatar: Avatar, add_themes: int = 0, add_custom: int = 0) -> None:
    errors = planner.fair_use_errors(
        theme_count=ChosenTheme.objects.filter(avatar=avatar).count() + add_themes,
        custom_count=CustomPrompt.objects.filter(avatar=avatar).count() + add_custom,
    )
    if errors:
        raise FairUseLimitReached(errors[0])


@transaction.atomic
def theme_choose(*, avatar: Avatar, theme_slug: str) -> ChosenTheme:
    """Add a theme to a draft avatar's selection; choosing it twice changes nothing."""
    avatar = _lock_draft(avatar)
    theme = Theme.objects.filter(slug=theme_slug, is_active=True).first()
    if theme is None or not theme.suits(avatar.subject_class):
        raise ThemeUnavailable(f"That style is not available for {avatar.name}.")
    if existing := ChosenTheme.objects.filter(avatar=avatar, theme=theme).first():
        return existing
    _check_limits(avatar=avatar, add_themes=1)
    if team := team_style_for_avatar(avatar=avatar):
        if theme.slug not in team.theme_slugs:
            raise ThemeUnavailable(f"That style is not one of {team.organisation}'s styles.")
        if ChosenTheme.objects.filter(avatar=avatar).count() >= team.styles:
            raise FairUseLimitReached(
                f"{team.organisation} pays for {team.styles} style{'' if team.styles == 1 else 's'}: "
                "remove one to choose another."
            )
    return ChosenTheme.objects.create(avatar=avatar, theme=theme)


@transaction.atomic
def theme_remove(*, avatar: Avatar, theme_slug: str) -> bool:
    """Remove a theme from a draft avatar's selection; True if it was chosen."""
    avatar = _lock_draft(avatar)
    deleted, _ = ChosenTheme.objects.filter(avatar=avatar, theme__slug=theme_slug).delete()
    return bool(deleted)


@transaction.atomic
def custom_prompt_add(*, avatar: Avatar, text: str = "", idea_id: int | None = None) -> CustomPrompt:
    """Add a prompt of the user's own (or a library idea) to a draft avatar.

    The text is cleaned and checked by the prompt builder; raises PromptRejected with the reason,
    or FairUseLimitReached.
    """
    avatar = _lock_draft(avatar)
    if team := team_style_for_avatar(avatar=avatar):
        raise PromptRejected(f"{team.organisation}'s portraits use only its styles, not prompts of your own.")
    idea = None
    if idea_id is not None:
        try:
            idea = selectors.prompt_idea_get(idea_id=idea_id)
        except PromptIdea.DoesNotExist:
            raise PromptRejected("That idea is no longer in the library.") from None
        if not selectors.prompt_idea_suits(idea, subject_class=avatar.subject_class):
            raise PromptRejected(
                f"That idea is not meant for a {avatar.get_subject_class_display().lower()}."
            )
        text = idea.text
    built = prompting.build_custom_prompt(text, subject_class=avatar.subject_class)
    if CustomPrompt.objects.filter(avatar=avatar, template=built.template).exists():
        raise PromptRejected("You have already added this prompt.")
    _check_limits(avatar=avatar, add_custom=1)
    return CustomPrompt.objects.create(
        avatar=avatar, text=text, cleaned=built.cleaned, template=built.template, idea=idea
    )


@transaction.atomic
def custom_prompt_remove(*, avatar: Avatar, custom_prompt_id: int) -> bool:
    """Remove one of a draft avatar's own prompts; True if it existed."""
    avatar = _lock_draft(avatar)
    deleted, _ = CustomPrompt.objects.filter(avatar=avatar, pk=custom_prompt_id).delete()
    return bool(deleted)


@transaction.atomic
def catalogue_sync(*, overwrite: bool = False) -> tuple[catalogue.SyncReport, catalogue.SyncReport]:
    """Load themes.toml and prompt_ideas.toml; keeps staff edits unless ``overwrite``."""
    return catalogue.load_all(theme_model=Theme, idea_model=PromptIdea, overwrite=overwrite)

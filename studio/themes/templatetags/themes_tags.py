from django import template

from studio.avatars.models import Avatar
from studio.core.static import static_url_or
from studio.themes import prompting, selectors
from studio.themes.models import DEFAULT_COVER, Theme

register = template.Library()


@register.simple_tag
def chosen_prompt_count(avatar: Avatar) -> int:
    """How many prompts a draft avatar has chosen on its styles page."""
    return selectors.chosen_prompt_count(avatar=avatar)


@register.simple_tag
def theme_cover_url(theme: Theme, pet: bool = False) -> str:
    """`{% theme_cover_url theme pet=avatar.is_pet %}`: the cover's URL, or the default cover's
    when the file is missing (a typo in the admin must not take the page down)."""
    return static_url_or(theme.cover_path(pet=pet), default=DEFAULT_COVER)


@register.filter
def as_customer_reads(text: str, name: str) -> str:
    """`{{ prompt.text|as_customer_reads:avatar.name }}`: the prompt with the avatar's name where
    the AI's trigger word stands."""
    return prompting.for_customer(text or "", name=name or "")

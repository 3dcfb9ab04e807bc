from django import template

from studio.avatars.models import Avatar
from studio.themes import selectors

register = template.Library()


@register.simple_tag
def chosen_prompt_count(avatar: Avatar) -> int:
    """How many prompts a draft avatar has chosen on its styles page."""
    return selectors.chosen_prompt_count(avatar=avatar)

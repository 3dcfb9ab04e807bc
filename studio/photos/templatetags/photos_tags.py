from django import template
from django.conf import settings

from studio.avatars.models import Avatar
from studio.photos.selectors import photo_count_accepted

register = template.Library()


@register.simple_tag
def photos_progress(avatar: Avatar) -> dict:
    """`{% photos_progress avatar as progress %}`: accepted photos of the minimum needed."""
    accepted = photo_count_accepted(avatar=avatar)
    minimum = settings.PHOTOS_MIN_ACCEPTED
    return {"accepted": accepted, "minimum": minimum, "enough": accepted >= minimum}


@register.simple_tag
def photo_count_range() -> str:
    """`{% photo_count_range %}`: how many photos an avatar takes, such as "4 to 20"."""
    return f"{settings.PHOTOS_MIN_ACCEPTED} to {settings.PHOTOS_MAX_PER_AVATAR}"

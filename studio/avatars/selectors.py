import uuid

from django.db.models import QuerySet

from accounts.models import User
from studio.avatars.models import Avatar


def avatar_list_for_user(*, user: User) -> QuerySet[Avatar]:
    return Avatar.objects.filter(user=user).order_by("-created_at")


def avatar_get_for_user(*, user: User, avatar_id: uuid.UUID) -> Avatar:
    """The user's avatar; raises Avatar.DoesNotExist for anyone else's."""
    return avatar_list_for_user(user=user).get(pk=avatar_id)

from django.db import transaction

from accounts.models import User
from studio.avatars.models import Avatar


@transaction.atomic
def avatar_create(*, user: User, name: str, subject_class: str) -> Avatar:
    avatar = Avatar(user=user, name=name.strip(), subject_class=subject_class)
    avatar.full_clean()
    avatar.save()
    return avatar

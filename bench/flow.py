"""What `manage.py demo` does, step by step, for the benchmarks and the chaos drills.

Every step goes through the studio's services and its real worker (photo checks, submit,
results), as the demo command does; these functions only poll more finely than the command.
Call them after `Stack.setup_django()`.
"""

from __future__ import annotations

import time

from django.core.files.uploadedfile import SimpleUploadedFile

from bench.stack import wait_until


def make_user(email: str):
    """A signed-up user with a verified address (and the sign-up grant)."""
    from allauth.account.models import EmailAddress
    from django.db import transaction

    from accounts.models import User
    from accounts.services import user_signup_complete

    with transaction.atomic():
        user = User.objects.create_user(email=email, password=None)
        user_signup_complete(user=user)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def choices_for(subject_class: str, *, themes: int, ideas: int) -> tuple[list[str], list[int]]:
    """The first `themes` catalogue themes and `ideas` library ideas that suit the subject."""
    from studio.avatars.models import PET_CLASSES
    from studio.themes.models import PromptIdea, Theme

    slugs = [t.slug for t in Theme.objects.filter(is_active=True) if t.suits(subject_class)][:themes]
    suits = [PromptIdea.Suits.ALL, PromptIdea.Suits.PETS if subject_class in PET_CLASSES else PromptIdea.Suits.PEOPLE]
    idea_ids = list(PromptIdea.objects.filter(is_active=True, suits__in=suits).values_list("pk", flat=True)[:ideas])
    return slugs, idea_ids


def upload_photos(user, avatar, photos: list[tuple[str, bytes]]) -> None:
    from studio.photos.services import photo_upload

    for name, data in photos:
        photo_upload(user=user, avatar=avatar, upload=SimpleUploadedFile(name, data, content_type="image/jpeg"))


def photos_checked(avatar) -> bool:
    from studio.photos.models import PhotoVerdict

    return not avatar.photos.filter(verdict=PhotoVerdict.PROCESSING).exists()


def choose(avatar, *, themes: list[str], ideas: list[int]) -> None:
    from studio.themes.services import custom_prompt_add, theme_choose

    for slug in themes:
        theme_choose(avatar=avatar, theme_slug=slug)
    for idea_id in ideas:
        custom_prompt_add(avatar=avatar, idea_id=idea_id)


def fund_for(user, avatar) -> int:
    """Grant exactly what the avatar's order costs, as the demo does; returns the cost."""
    from studio.credits.services import credit_grant
    from studio.themes.planner import plan_for_avatar

    plan = plan_for_avatar(avatar=avatar)
    if plan.errors:
        raise RuntimeError(plan.errors[0])
    credit_grant(user=user, amount=plan.credit_cost, key=f"bench:{avatar.pk}", reason="Demo credits",
                 reference=f"avatar:{avatar.pk}")
    return plan.credit_cost


def make_draft(user, *, name: str, photos: list[tuple[str, bytes]], themes: list[str], ideas: list[int],
               timeout: float = 120):
    """A draft ready to confirm: photos uploaded and checked by the worker, choices made, paid for."""
    from studio.avatars.services import avatar_create
    from studio.photos.selectors import photo_minimum_met

    avatar = avatar_create(user=user, name=name, subject_class="woman")
    upload_photos(user, avatar, photos)
    wait_until(lambda: photos_checked(avatar), timeout=timeout, interval=0.05, what="the photo checks")
    if not photo_minimum_met(avatar=avatar):
        raise RuntimeError("the sample photos were refused")
    choose(avatar, themes=themes, ideas=ideas)
    fund_for(user, avatar)
    return avatar


def wait_finished(avatars, *, timeout: float, interval: float = 0.05) -> None:
    from studio.avatars.models import Avatar, AvatarState

    ids = [avatar.pk for avatar in avatars]

    def finished() -> bool:
        states = Avatar.objects.filter(pk__in=ids).values_list("state", flat=True)
        return all(state in (AvatarState.DONE, AvatarState.FAILED) for state in states)

    deadline = time.monotonic() + timeout
    while not finished():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(ids)} avatars not finished after {timeout:.0f} s")
        time.sleep(interval)


def session_cookie(user) -> str:
    """A Cookie header for a logged-in browser of this user (session and CSRF cookies)."""
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={_get_new_csrf_string()}"

"""The emails an avatar's owner gets: the images are ready (with the prompts refunded), or the
avatar failed and its credits are back."""

import uuid

import pytest
from django.core import mail
from django.urls import reverse

from studio.avatars import emails
from studio.avatars.models import AvatarState, LikenessOutcome, PromptState
from tests.avatars.factories import PromptFactory, done_avatar
from tests.factories import AvatarFactory

pytestmark = pytest.mark.django_db


def test_the_ready_email_counts_the_images_links_the_gallery_and_names_the_refunded_prompts(user, settings):
    settings.PUBLIC_URL = "https://studio.example.com"
    avatar = done_avatar(user=user, name="Ada", prompts=2, images_per_prompt=3)
    PromptFactory(avatar=avatar, label="Astronaut", state=PromptState.FAILED)

    emails.avatar_send_ready_email(avatar_id=avatar.pk)

    (email,) = mail.outbox
    assert email.to == [user.email] and email.subject == "Your avatars of Ada are ready"
    assert "6 images are waiting in your gallery" in email.body
    assert "1 style could not be generated" in email.body and "  - Astronaut\n" in email.body
    assert "https://studio.example.com" + reverse("avatars:detail", args=[avatar.pk]) in email.body


def test_the_ready_email_names_the_styles_refunded_for_not_looking_like_them(user):
    avatar = done_avatar(user=user, name="Ada", prompts=1, images_per_prompt=2)
    noir = PromptFactory(avatar=avatar, label="Film noir", likeness_outcome=LikenessOutcome.REFUNDED)
    PromptFactory(avatar=avatar, label="Film noir", redo_of=noir, price=0, likeness_outcome=LikenessOutcome.FAILED)

    emails.avatar_send_ready_email(avatar_id=avatar.pk)

    (email,) = mail.outbox
    assert "Most images of 1 style did not look enough like Ada, so the credits for it are back" in email.body
    assert email.body.count("  - Film noir\n") == 1
    assert "could not be generated" not in email.body


def test_the_failed_email_says_what_happened_and_that_the_credits_are_back(user):
    avatar = AvatarFactory(
        user=user, name="Ada", state=AvatarState.FAILED, failure_reason="Astria could not train on these photos."
    )

    emails.avatar_send_failed_email(avatar_id=avatar.pk)

    (email,) = mail.outbox
    assert email.to == [user.email]
    assert email.subject == "We could not make your avatars of Ada: credits refunded"
    assert "What happened: Astria could not train on these photos." in email.body
    assert "Every credit for the work that was not delivered is back in your account" in email.body


def test_a_closed_account_or_a_deleted_avatar_gets_no_email(user):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    user.is_active = False
    user.save()

    emails.avatar_send_ready_email(avatar_id=avatar.pk)
    emails.avatar_send_failed_email(avatar_id=uuid.uuid4())

    assert mail.outbox == []


def test_the_ready_email_writes_names_as_typed_and_counts_one_image_right(user):
    avatar = done_avatar(user=user, name="Zoë & “Bo” <3", prompts=1, images_per_prompt=1)

    emails.avatar_send_ready_email(avatar_id=avatar.pk)

    (email,) = mail.outbox
    assert email.subject == "Your avatars of Zoë & “Bo” <3 are ready"
    assert "Your avatars of Zoë & “Bo” <3 are ready: 1 image is waiting in your gallery." in email.body
    assert "&amp;" not in email.body and "&lt;" not in email.body

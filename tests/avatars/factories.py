import io
from collections.abc import Callable
from datetime import datetime

import factory
from django.core.files.base import ContentFile
from PIL import Image

from studio.avatars.models import Avatar, AvatarState, GeneratedImage, Prompt, PromptState
from tests.factories import AvatarFactory


def _image_bytes(image_format: str, size: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, image_format)
    return out.getvalue()


class PromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prompt

    avatar = factory.SubFactory(AvatarFactory, state=AvatarState.DONE)
    position = factory.Sequence(lambda n: n)
    label = factory.Sequence(lambda n: f"Theme {n}")
    text = "portrait of sks woman, golden hour, 85mm"
    num_images = 8
    price = 1
    state = PromptState.DONE
    astria_prompt_id = factory.Sequence(lambda n: 5_000_000 + n)


class GeneratedImageFactory(factory.django.DjangoModelFactory):
    """An image with real (small) files in private storage."""

    class Meta:
        model = GeneratedImage

    prompt = factory.SubFactory(PromptFactory)
    avatar = factory.SelfAttribute("prompt.avatar")
    index = factory.Sequence(lambda n: n % 8)
    width = height = 64
    thumb_width = thumb_height = 32
    bytes = 100
    image = factory.LazyFunction(lambda: ContentFile(_image_bytes("JPEG", 64, (200, 120, 80)), name="full.jpg"))
    thumbnail = factory.LazyFunction(lambda: ContentFile(_image_bytes("WEBP", 32, (200, 120, 80)), name="thumb.webp"))


def done_avatar(*, user, prompts: int = 2, images_per_prompt: int = 8, **fields):
    avatar = AvatarFactory(user=user, state=AvatarState.DONE, tune_id=fields.pop("tune_id", None), **fields)
    for position in range(prompts):
        prompt = PromptFactory(avatar=avatar, position=position)
        for index in range(images_per_prompt):
            GeneratedImageFactory(prompt=prompt, avatar=avatar, index=index)
    return avatar


def dated_avatar(
    *, at: Callable[[int], datetime], created: int, queued=None, submitted=None, finished=None, **fields
) -> Avatar:
    """An avatar whose creation, payment, submission and end are given in days ago (None: not yet);
    `at` turns days ago into a time."""
    made = AvatarFactory(**fields)
    times = {"created_at": at(created)}
    for name, days_ago in (("queued_at", queued), ("submitted_at", submitted), ("finished_at", finished)):
        if days_ago is not None:
            times[name] = at(days_ago)
    Avatar.objects.filter(pk=made.pk).update(**times)
    made.refresh_from_db()
    return made

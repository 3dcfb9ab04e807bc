import functools
import uuid
from typing import NamedTuple

import factory
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from studio import faces
from studio.avatars.models import Avatar
from studio.photos import imaging, quality, samples
from studio.photos.models import Photo, PhotoVerdict
from studio.photos.services import photo_folder
from tests.factories import AvatarFactory


class PhotoFactory(factory.django.DjangoModelFactory):
    """A photo row as processing leaves it (no files: for counting and listing)."""

    class Meta:
        model = Photo

    avatar = factory.SubFactory(AvatarFactory)
    verdict = PhotoVerdict.ACCEPTED
    original_name = factory.Sequence(lambda n: f"IMG_{1000 + n}.jpg")
    width = 1536
    height = 2048


class CleanPhoto(NamedTuple):
    jpeg: bytes
    thumbnail: bytes
    size: tuple[int, int]
    dhash: str
    analysis: dict


@functools.cache
def clean_photo(index: int) -> CleanPhoto:
    """What the images worker keeps of the index-th of a set of different shots of one person (a
    clean JPEG, its WebP thumbnail, its size, hash and face analysis); made once per test process.
    Up to `samples.SHOTS` in a row are different shots."""
    img = samples.photo(faces=((0.3 + 0.05 * (index % 6), 0.4, 0.3),), seed=20 + index)
    return CleanPhoto(
        jpeg=imaging.encode_jpeg(img, quality=settings.PHOTOS_JPEG_QUALITY),
        thumbnail=imaging.make_webp_thumbnail(
            img, settings.PHOTOS_THUMBNAIL_SIZE, quality=settings.PHOTOS_THUMBNAIL_QUALITY
        ),
        size=img.size,
        dhash=f"{quality.dhash(img):016x}",
        analysis=faces.analyse(img).as_dict(),
    )


def ready_photos(avatar: Avatar, count: int = 4) -> list[Photo]:
    """`count` more accepted photos of the avatar, with their files and face analysis in private
    storage, as if the images worker had checked them, without running the intake for each test
    (decoding, face analysis and encoding take a second a photo; each is made once per process).
    Each is a different shot of the same person, so the set's judgement would count them all."""
    first = Photo.objects.filter(avatar=avatar).count()
    photos = []
    for index in range(first, first + count):
        clean = clean_photo(index)
        stem = f"{photo_folder(avatar)}/{uuid.uuid4().hex}"
        photos.append(
            PhotoFactory(
                avatar=avatar,
                original_name=f"IMG_{index}.jpg",
                image=default_storage.save(f"{stem}.jpg", ContentFile(clean.jpeg)),
                thumbnail=default_storage.save(f"{stem}.webp", ContentFile(clean.thumbnail)),
                width=clean.size[0],
                height=clean.size[1],
                bytes=len(clean.jpeg),
                dhash=clean.dhash,
                analysis=clean.analysis,
            )
        )
    return photos

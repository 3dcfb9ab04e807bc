from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from studio.avatars.models import SubjectClass
from studio.photos import services
from tests.factories import AvatarFactory
from tests.photos import corpus


@pytest.fixture
def avatar(user):
    return AvatarFactory(user=user, name="Ada", subject_class=SubjectClass.WOMAN)


@pytest.fixture
def media_files(settings):
    """The files in private storage right now, as paths relative to its root."""

    def list_files() -> list[str]:
        root = Path(settings.MEDIA_ROOT)
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []

    return list_files


def uploaded(data: bytes | None = None, name: str = "IMG_0001.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, corpus.jpeg() if data is None else data, content_type="image/jpeg")


@pytest.fixture
def add_photo(django_capture_on_commit_callbacks, user, avatar):
    """Upload through the service, then let the images task run as the worker would."""

    def add(data: bytes | None = None, *, name: str = "IMG_0001.jpg", to=None, by=None):
        with django_capture_on_commit_callbacks(execute=True):
            photo = services.photo_upload(user=by or user, avatar=to or avatar, upload=uploaded(data, name))
        photo.refresh_from_db()
        return photo

    return add


def distinct_photos(count: int) -> list[bytes]:
    """Photos different enough not to count as near-duplicates of each other."""
    return [corpus.jpeg(corpus.photo(faces=((0.3 + 0.05 * (i % 6), 0.4, 0.3),), seed=20 + i)) for i in range(count)]

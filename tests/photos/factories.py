import factory

from studio.photos.models import Photo, PhotoVerdict
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

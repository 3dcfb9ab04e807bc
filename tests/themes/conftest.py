import pytest

from studio.avatars.models import SubjectClass
from tests.factories import AvatarFactory
from tests.themes.factories import ThemeFactory


@pytest.fixture
def avatar(user):
    """A draft avatar of a woman, owned by `user`."""
    return AvatarFactory(user=user, name="Ada", subject_class=SubjectClass.WOMAN)


@pytest.fixture
def dog(user):
    return AvatarFactory(user=user, name="Biscuit", subject_class=SubjectClass.DOG)


@pytest.fixture
def themes(db):
    """Sixteen themes that suit every class, none of them from the catalogue."""
    return ThemeFactory.create_batch(16)

import pytest

from tests.dashboard.factories import Shop, make_shop
from tests.factories import UserFactory


@pytest.fixture
def staff(db):
    """Staff without admin permissions: the dashboard needs no more."""
    return UserFactory(is_staff=True)


@pytest.fixture
def shop(db) -> Shop:
    return make_shop()

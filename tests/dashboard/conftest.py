import pytest

from tests.dashboard.factories import Shop, make_shop
from tests.factories import UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def shop(db) -> Shop:
    return make_shop()

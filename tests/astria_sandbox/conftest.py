import pytest

from tests.astria_sandbox.api import Api


@pytest.fixture
def api(astria_sandbox):
    return Api(astria_sandbox.url)

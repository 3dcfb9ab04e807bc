from tests.avatars.conftest import catalogue, fund, make_draft  # noqa: F401 (fixtures shared with the avatar tests)

from tests.avatars.conftest import catalogue, fund, make_draft, studio_on_sandbox  # noqa: F401 (shared fixtures)

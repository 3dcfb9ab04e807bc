import os
import time
import types

import pytest
from django.core.cache import cache
from django.db import connection

from tests.factories import UserFactory
from tests.helpers import real_worker

pytest_plugins = ["tests.sandbox_fixtures", "tests.avatar_fixtures", "tests.static_manifest", "tests.s3_fixtures"]

# The longest tests, run first: started last, one of them would keep one process busy alone at
# the end of a parallel run while the other ones wait.
LONGEST_FIRST = ("tests/e2e/test_screens.py", "tests/e2e/test_journey.py", "tests/e2e/test_edits.py")


def pytest_collection_modifyitems(items):
    """Browser tests first, the longest of them leading, then those with a real Celery worker,
    then the rest in their usual order. pytest-xdist's worksteal hands each process a contiguous
    share and lets an idle one take the end of another's: what is long is started early, and
    what is left to share at the end is short."""

    def rank(item) -> tuple[int, int]:
        path = item.nodeid.split("::")[0]
        longest = LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)
        if item.get_closest_marker("e2e"):
            return 0, longest
        return (1 if item.get_closest_marker("worker") else 2), 0

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Each test gets its own private media folder and an empty cache (rate limits included)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    local = settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            # The settings' own options (file permissions included), in this test's folder.
            "OPTIONS": {
                **(settings.STORAGES["default"]["OPTIONS"] if local else {}),
                "location": tmp_path / "media",
                "base_url": None,
            },
        },
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """Tests marked `postgres` need real row locks: skipped on SQLite, and a failure in CI."""
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests on PostgreSQL (set DATABASE_URL).")
        pytest.skip("needs PostgreSQL (real row locks and triggers): run with DATABASE_URL=postgres://...")


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def staff(db):
    """A member of staff with every permission of the admin."""
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def celery_worker_real(settings):
    """A real Celery worker thread consuming this process's queues (not eager mode); yields the
    tasks finished so far (`FinishedTasks`), to wait on."""
    queues = [settings.CELERY_TASK_DEFAULT_QUEUE, *(route["queue"] for route in settings.CELERY_TASK_ROUTES.values())]
    with real_worker(queues) as finished:
        yield finished



@pytest.fixture(autouse=True)
def _frozen_rate_limit_clock(monkeypatch):
    """django-ratelimit counts in fixed windows of the wall clock: with its clock stopped, a test's
    requests all fall in one window, whenever the test runs."""
    import django_ratelimit.core

    now = int(time.time())
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: now))

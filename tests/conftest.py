import os
import time
import types

import pytest
from django.core.cache import cache
from django.db import connection
from pytest_django.fixtures import validate_django_db

from studio.avatars.page_cache import recent_pages
from tests.factories import UserFactory
from tests.helpers import real_worker

pytest_plugins = [
    "tests.sandbox_fixtures", "tests.avatar_fixtures", "tests.static_manifest", "tests.s3_fixtures", "tests.once",
]

# The longest tests, run first among the tests on a live server.
LONGEST_FIRST = ("tests/e2e/test_screens.py", "tests/e2e/test_journey.py", "tests/e2e/test_edits.py")


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items):
    """The longest tests start first in a parallel run, so that none of them is left running alone
    at the end while the other processes wait.

    pytest-django orders the tests as Django does: those in a transaction, then those that empty
    the database (the live-server tests among them: emptying it also removes what the migrations
    loaded, which the first ones may read), then those without a database. With pytest-xdist's
    worksteal, each process first gets a contiguous share of that list, then an idle process takes
    the end of a busy one's share. The tests that empty the database, browser tests first (the
    longest leading), then those with a real Celery worker, are moved to the start of the last
    process's share, ahead of tests without a database: every process still runs its tests in
    a transaction before those that empty the database, and what is left to share at the end is
    short."""

    def rank(item) -> tuple[int, int]:
        path = item.nodeid.split("::")[0]
        if item.get_closest_marker("e2e"):
            return 0, LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)
        return (1 if item.get_closest_marker("worker") else 2), 0

    items.sort(key=rank)
    result = yield  # pytest-django's grouping, which keeps this order within each group
    in_transaction = [item for item in items if _database_use(item) == "transaction"]
    emptying = [item for item in items if _database_use(item) == "emptying"]
    without = [item for item in items if _database_use(item) is None]
    last_share = _last_share_start(len(items), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    filler = max(0, last_share - len(in_transaction))
    items[:] = in_transaction + without[:filler] + emptying + without[filler:]
    return result


def _database_use(item) -> str | None:
    """How the test uses the database, as pytest-django tells them apart to order them."""
    fixtures = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    transaction, reset_sequences, *_ = validate_django_db(marker) if marker else (False, False)
    if transaction or reset_sequences or "transactional_db" in fixtures or "live_server" in fixtures:
        return "emptying"
    return "transaction" if marker or "db" in fixtures else None


def _last_share_start(count: int, processes: int) -> int:
    """Where the last process's first share starts: worksteal gives each idle process in turn an
    equal part of what is left."""
    start = 0
    for index in range(processes - 1):
        start += (count - start) // (processes - index)
    return start


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Each test gets its own private media folder and an empty cache (rate limits and the pages
    this process keeps included)."""
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
    recent_pages.clear()
    yield
    cache.clear()
    recent_pages.clear()


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

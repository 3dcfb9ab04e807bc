"""A migration run while the studio serves: statements prepared before it keep working."""

import psycopg
import pytest
from django.db import NotSupportedError, connection, transaction

from accounts.models import User
from tests.concurrency import run_together
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def migrate_elsewhere():
    """Changes the type of a column the user's rows return, from another connection (as the release
    step of a deploy does), and puts it back afterwards."""
    column = User._meta.get_field("password")
    changed = []

    def alter(length: int) -> None:
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
            other.execute(f"ALTER TABLE {User._meta.db_table} ALTER COLUMN {column.column} TYPE varchar({length})")

    def migrate() -> None:
        alter(250)
        changed.append(True)

    yield migrate
    if changed:
        alter(column.max_length)


def _read_often(user) -> None:
    for _ in range(8):  # past psycopg's threshold: the statement is prepared on the connection
        assert User.objects.get(pk=user.pk).email == user.email


def test_a_read_prepared_before_a_column_changed_type_is_answered(migrate_elsewhere):
    user = UserFactory()
    _read_often(user)

    migrate_elsewhere()

    assert User.objects.get(pk=user.pk).email == user.email
    assert User.objects.get(pk=user.pk).email == user.email


def test_the_retry_outlives_a_wrapper_around_a_new_threads_first_query(migrate_elsewhere):
    user = UserFactory()

    def serve(_) -> str:  # a new thread: its connection opens inside the block and keeps the retry after it
        with connection.execute_wrapper(lambda execute, *args: execute(*args)):
            _read_often(user)
        migrate_elsewhere()
        return User.objects.get(pk=user.pk).email

    assert run_together(serve, count=1) == [user.email]


def test_in_a_transaction_one_statement_fails_and_the_next_transaction_works(migrate_elsewhere):
    user = UserFactory()
    _read_often(user)

    migrate_elsewhere()

    with pytest.raises(NotSupportedError, match="cached plan must not change result type"), transaction.atomic():
        User.objects.get(pk=user.pk)
    with transaction.atomic():
        assert User.objects.get(pk=user.pk).email == user.email
    assert User.objects.get(pk=user.pk).email == user.email

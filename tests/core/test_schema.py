"""The columns matched only by their whole value carry one index each on PostgreSQL, never a
pattern index (which serves only LIKE 'prefix%')."""

import pytest
from django.db import connection

from studio.avatars.models import Avatar, CallbackEvent, Prompt
from studio.credits.models import CreditEntry, SignupGrantClaim
from studio.teams.models import Invite

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

EXACT = [
    (Avatar, "callback_token_hash"), (Prompt, "callback_token_hash"), (CallbackEvent, "digest"),
    (CreditEntry, "key"), (SignupGrantClaim, "address_hash"), (Invite, "token_hash"),
]


def indexes_on(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               WHERE i.indrelid = %s::regclass AND a.attname = %s AND i.indnatts = 1""",
            [table, column],
        )
        return [definition for (definition,) in cursor.fetchall()]


@pytest.mark.parametrize(("model", "column"), EXACT, ids=[f"{m.__name__}.{c}" for m, c in EXACT])
def test_a_column_matched_by_its_whole_value_has_one_unique_index_and_no_pattern_index(model, column):
    (definition,) = indexes_on(model._meta.db_table, column)

    assert definition.startswith("CREATE UNIQUE INDEX") and "pattern_ops" not in definition


WHOLE = [(Avatar, "state"), (Prompt, "state"), (Prompt, "theme_slug"), (CreditEntry, "reference")]


@pytest.mark.parametrize(("model", "column"), WHOLE, ids=[f"{m.__name__}.{c}" for m, c in WHOLE])
def test_an_indexed_column_matched_whole_has_one_plain_index(model, column):
    (definition,) = indexes_on(model._meta.db_table, column)

    assert definition.startswith("CREATE INDEX") and "pattern_ops" not in definition

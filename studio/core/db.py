"""PostgreSQL statements prepared by a connection stay usable after a migration changes a column.

A connection prepares the statements it repeats (settings: DATABASE_PREPARED_STATEMENTS). Once a
migration run elsewhere changes the type of a column such a statement returns, PostgreSQL refuses
to run it ("cached plan must not change result type") until the connection closes. Outside a
transaction, the connection then drops its prepared statements and runs the statement again: it
never ran, PostgreSQL checks the plan first. Inside a transaction only that statement fails; the
rollback that follows drops the prepared statements, so the next transaction works.
"""

from collections.abc import Callable
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper


def _is_stale_plan(error: NotSupportedError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "source_function", None) == "RevalidateCachedQuery"


def _replan_stale_statement(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
    try:
        return execute(sql, params, many, context)
    except NotSupportedError as error:
        if not _is_stale_plan(error) or not context["connection"].get_autocommit():
            raise
        context["cursor"].cursor.execute("DEALLOCATE ALL")  # psycopg forgets its prepared statements with them
        return execute(sql, params, many, context)


def replan_stale_statements(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: every PostgreSQL connection runs its statements through the retry.

    First in the list: `connection.execute_wrapper()` blocks add theirs at the end and take the last
    one off when they close, even when the connection opened inside the block."""
    if connection.vendor == "postgresql" and _replan_stale_statement not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _replan_stale_statement)

"""Text columns matched only by their whole value (hashes, keys, states): one index each.

For a `CharField(unique=True)` or `CharField(db_index=True)`, Django's PostgreSQL backend builds a
second index beside the first, `<table>_<column>_<hash>_like` (`varchar_pattern_ops`), which serves
only `LIKE 'prefix%'`. These columns are never searched by prefix, and most are written on the
busiest paths (every callback, every ledger line, every state change). The unique ones declare
their uniqueness as a constraint instead, and migrations drop the pattern indexes already built.
"""

from django.db import migrations, models


def unique_exact(table: str, column: str) -> models.UniqueConstraint:
    """Named as PostgreSQL named the constraint `unique=True` made, so databases keep theirs."""
    return models.UniqueConstraint(fields=[column], name=f"{table}_{column}_key")


def drop_pattern_indexes(*names: str) -> migrations.RunPython:
    """A migration step dropping `_like` indexes that `unique=True` or `db_index=True` made on
    PostgreSQL (other databases have none). An indexed column keeps its plain index: Django names
    that one after the column too, and it stays as it was."""

    def drop(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for name in names:
                schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return migrations.RunPython(drop, migrations.RunPython.noop)

"""Text columns matched only by their whole value (hashes, idempotency keys): unique with one index.

For a `CharField(unique=True)`, Django's PostgreSQL backend builds a second index beside the unique
one, `<table>_<column>_<hash>_like` (`varchar_pattern_ops`), which serves only `LIKE 'prefix%'`.
These columns are never searched by prefix, and most are written on the busiest paths (every
callback, every ledger line), so they declare their uniqueness as a constraint instead: one index.
"""

from django.db import migrations, models


def unique_exact(table: str, column: str) -> models.UniqueConstraint:
    """Named as PostgreSQL named the constraint `unique=True` made, so databases keep theirs."""
    return models.UniqueConstraint(fields=[column], name=f"{table}_{column}_key")


def drop_pattern_indexes(*names: str) -> migrations.RunPython:
    """A migration step dropping the `_like` indexes `unique=True` made on PostgreSQL (other
    databases have none)."""

    def drop(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for name in names:
                schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return migrations.RunPython(drop, migrations.RunPython.noop)

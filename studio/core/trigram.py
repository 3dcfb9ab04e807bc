"""Trigram indexes for the admin's substring searches, on PostgreSQL only (pg_trgm, a trusted
extension the database owner may create). Django's `icontains` compares UPPER(column::text), so
the index is on that expression. Created CONCURRENTLY, so a migration on a large table does not
block writes (the migration must be `atomic = False`); on other databases nothing is done, and
searches there scan, which small databases do fast enough."""

from django.db.migrations import RunPython


def trigram_index(table: str, column: str, name: str) -> RunPython:
    def create(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )

    def drop(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')

    return RunPython(create, drop, elidable=False)

"""On PostgreSQL, the ledger rejects UPDATE and DELETE of its rows: corrections are new entries.

Row-level triggers do not fire on TRUNCATE, which test databases use to reset between tests.
SQLite gets no trigger, because Django empties SQLite tables with DELETE between tests.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION credits_creditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credit ledger entries cannot be changed or deleted (% on entry %)', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation',
              HINT = 'Post a new adjustment entry instead.';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credits_creditentry_append_only
    BEFORE UPDATE OR DELETE ON credits_creditentry
    FOR EACH ROW EXECUTE FUNCTION credits_creditentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS credits_creditentry_append_only ON credits_creditentry;
DROP FUNCTION IF EXISTS credits_creditentry_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False)]

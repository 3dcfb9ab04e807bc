"""On PostgreSQL, the ledger still rejects DELETE and every UPDATE but one that changes only the
reason: deleting an avatar or an account rewrites the words that named it, never an amount, a key,
a reference, a user or a time."""

from django.db import migrations

REASON_ONLY = """
CREATE OR REPLACE FUNCTION credits_creditentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.id, NEW.user_id, NEW.kind, NEW.amount, NEW.key, NEW.reference, NEW.created_by_id, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.user_id, OLD.kind, OLD.amount, OLD.key, OLD.reference, OLD.created_by_id, OLD.created_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'credit ledger entries cannot be changed or deleted (% on entry %)', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation',
              HINT = 'Post a new adjustment entry instead.';
END;
$$ LANGUAGE plpgsql;
"""

NOTHING = """
CREATE OR REPLACE FUNCTION credits_creditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credit ledger entries cannot be changed or deleted (% on entry %)', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation',
              HINT = 'Post a new adjustment entry instead.';
END;
$$ LANGUAGE plpgsql;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("credits", "0003_signup_grant_claims")]

    operations = [migrations.RunPython(_on_postgresql(REASON_ONLY), _on_postgresql(NOTHING), elidable=False)]

"""Ledger references are matched whole ("avatar:<id>"), never by prefix: the pattern index
PostgreSQL had beside their index goes (studio/core/schema.py), one less to write on every ledger
line."""

from django.db import migrations

from studio.core.schema import drop_pattern_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('credits', '0012_purchase_refunds'),
    ]

    operations = [
        drop_pattern_indexes('credits_creditentry_reference_fbdd8545_like'),
    ]

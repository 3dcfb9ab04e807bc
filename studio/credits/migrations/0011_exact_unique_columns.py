"""Ledger keys and sign-up claim hashes keep their unique index and lose the pattern index
PostgreSQL had beside it (studio/core/schema.py): one index less to write on every ledger line."""

from django.db import migrations, models

from studio.core.schema import drop_pattern_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('credits', '0010_purchase_credits_taken_back_and_payment_intents'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='creditentry',
                    name='key',
                    field=models.CharField(max_length=200),
                ),
                migrations.AlterField(
                    model_name='signupgrantclaim',
                    name='address_hash',
                    field=models.CharField(max_length=64),
                ),
                migrations.AddConstraint(
                    model_name='creditentry',
                    constraint=models.UniqueConstraint(fields=('key',), name='credits_creditentry_key_key'),
                ),
                migrations.AddConstraint(
                    model_name='signupgrantclaim',
                    constraint=models.UniqueConstraint(fields=('address_hash',), name='credits_signupgrantclaim_address_hash_key'),
                ),
            ],
            database_operations=[
                drop_pattern_indexes(
                    'credits_creditentry_key_1cddee37_like',
                    'credits_signupgrantclaim_address_hash_1008e61d_like',
                ),
            ],
        ),
    ]

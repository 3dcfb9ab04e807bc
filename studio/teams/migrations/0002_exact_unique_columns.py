"""Invitation token hashes keep their unique index and lose the pattern index PostgreSQL had
beside it (studio/core/schema.py)."""

from django.db import migrations, models

from studio.core.schema import drop_pattern_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('teams', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='invite',
                    name='token_hash',
                    field=models.CharField(editable=False, max_length=64),
                ),
                migrations.AddConstraint(
                    model_name='invite',
                    constraint=models.UniqueConstraint(fields=('token_hash',), name='teams_invite_token_hash_key'),
                ),
            ],
            database_operations=[drop_pattern_indexes('teams_invite_token_hash_0d7823a7_like')],
        ),
    ]

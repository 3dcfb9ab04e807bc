"""Callback token hashes and callback digests keep their unique index and lose the pattern index
PostgreSQL had beside it (studio/core/schema.py): one index less to write on every callback."""

from django.db import migrations, models

from studio.core.schema import drop_pattern_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('avatars', '0013_avatar_pool'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='avatar',
                    name='callback_token_hash',
                    field=models.CharField(blank=True, editable=False, max_length=64, null=True),
                ),
                migrations.AlterField(
                    model_name='callbackevent',
                    name='digest',
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name='prompt',
                    name='callback_token_hash',
                    field=models.CharField(blank=True, editable=False, max_length=64, null=True),
                ),
                migrations.AddConstraint(
                    model_name='avatar',
                    constraint=models.UniqueConstraint(fields=('callback_token_hash',), name='avatars_avatar_callback_token_hash_key'),
                ),
                migrations.AddConstraint(
                    model_name='callbackevent',
                    constraint=models.UniqueConstraint(fields=('digest',), name='avatars_callbackevent_digest_key'),
                ),
                migrations.AddConstraint(
                    model_name='prompt',
                    constraint=models.UniqueConstraint(fields=('callback_token_hash',), name='avatars_prompt_callback_token_hash_key'),
                ),
            ],
            database_operations=[
                drop_pattern_indexes(
                    'avatars_avatar_callback_token_hash_8911d80c_like',
                    'avatars_callbackevent_digest_c660bb67_like',
                    'avatars_prompt_callback_token_hash_b96943e5_like',
                ),
            ],
        ),
    ]

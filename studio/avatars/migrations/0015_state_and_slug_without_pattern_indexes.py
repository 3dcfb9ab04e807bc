"""Avatar and prompt states and prompts' theme slugs are matched whole, never by prefix: their
pattern indexes on PostgreSQL go (studio/core/schema.py); the indexes that serve them stay. Every
state change then updates one index on the state instead of two."""

from django.db import migrations

from studio.core.schema import drop_pattern_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('avatars', '0014_exact_unique_columns'),
    ]

    operations = [
        drop_pattern_indexes(
            'avatars_avatar_state_99c341ce_like',
            'avatars_prompt_state_08b32222_like',
            'avatars_prompt_theme_slug_df1bcd88_like',
        ),
    ]

from django.db import migrations

from studio.core.trigram import trigram_index


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("avatars", "0007_day_indexes")]

    operations = [
        trigram_index("avatars_prompt", "label", "avatars_prompt_label_trgm"),
        trigram_index("avatars_avatar", "name", "avatars_avatar_name_trgm"),
    ]

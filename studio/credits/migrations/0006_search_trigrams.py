from django.db import migrations

from studio.core.trigram import trigram_index


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("credits", "0005_day_indexes")]

    operations = [trigram_index("credits_creditentry", "reason", "credits_creditentry_reason_trgm")]

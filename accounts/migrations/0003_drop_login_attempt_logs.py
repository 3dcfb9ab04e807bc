"""Log-in throttling moved to the cache: the tables django-axes kept go, and with them the e-mail
addresses, client addresses and browsers of every log-in they recorded.

Forgetting that django-axes' migrations ran lets a rollback to a release that still used it
create its tables again with `migrate`.
"""

from django.db import migrations

AXES_TABLES = ["axes_accessattemptexpiration", "axes_accessattempt", "axes_accessfailurelog", "axes_accesslog"]


def forget_axes(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="axes").delete()  # with their permissions; admin log entries keep none
    schema_editor.execute("DELETE FROM django_migrations WHERE app = %s", ["axes"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_sessions_with_their_user"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        *(migrations.RunSQL(f"DROP TABLE IF EXISTS {table}", migrations.RunSQL.noop) for table in AXES_TABLES),
        migrations.RunPython(forget_axes, migrations.RunPython.noop),
    ]

from django.db import migrations


def load_catalogue(apps, schema_editor):
    # The same loader as `manage.py sync_themes`, given this migration's models.
    from studio.themes.catalogue import load_all

    load_all(theme_model=apps.get_model("themes", "Theme"), idea_model=apps.get_model("themes", "PromptIdea"))


class Migration(migrations.Migration):
    dependencies = [("themes", "0001_initial")]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]

"""Sessions move to a table that records their user (SESSION_ENGINE = "accounts.sessions"): the
live ones are copied with their user's id, so nobody is signed out, and Django's table is emptied."""

from django.db import migrations, models
from django.utils import timezone


def move_sessions(apps, schema_editor):
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    OldSession = apps.get_model("sessions", "Session")
    Session = apps.get_model("accounts", "Session")
    store = SessionStore()
    batch = []
    for old in OldSession.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=1000):
        try:
            user_id = int(store.decode(old.session_data).get(SESSION_KEY))
        except (TypeError, ValueError):
            user_id = None
        batch.append(
            Session(
                session_key=old.session_key,
                session_data=old.session_data,
                expire_date=old.expire_date,
                user_id=user_id,
            )
        )
        if len(batch) >= 1000:
            Session.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Session.objects.bulk_create(batch, ignore_conflicts=True)
    OldSession.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('sessions', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='Session',
            fields=[
                ('session_key', models.CharField(max_length=40, primary_key=True, serialize=False, verbose_name='session key')),
                ('session_data', models.TextField(verbose_name='session data')),
                ('expire_date', models.DateTimeField(db_index=True, verbose_name='expire date')),
                ('user_id', models.BigIntegerField(blank=True, db_index=True, null=True)),
            ],
            options={
                'verbose_name': 'session',
                'verbose_name_plural': 'sessions',
                'abstract': False,
            },
        ),
        migrations.RunPython(move_sessions, migrations.RunPython.noop),
    ]

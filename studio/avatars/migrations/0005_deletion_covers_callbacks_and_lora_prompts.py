"""A deleted avatar takes its callback log with it, and the ledger lines that named it say "deleted";
the same for avatars deleted before. LoRA prompts on the base tune are deleted with their tune, and
refunds and tune deletions in the admin have permissions of their own."""

import django.db.models.deletion
from django.db import migrations, models


def erase_what_deleted_avatars_left(apps, schema_editor):
    CallbackEvent = apps.get_model("avatars", "CallbackEvent")
    Avatar = apps.get_model("avatars", "Avatar")
    Prompt = apps.get_model("avatars", "Prompt")
    CreditEntry = apps.get_model("credits", "CreditEntry")
    CallbackEvent.objects.filter(avatar__isnull=True).delete()
    neutral = {"spend": "Spent on an avatar (deleted)", "refund": "Refund for an avatar (deleted)"}
    references = CreditEntry.objects.filter(kind__in=neutral).values_list("reference", flat=True).distinct()
    gone = []
    for reference in references.iterator():
        kind, _, pk = reference.partition(":")
        model = {"avatar": Avatar, "prompt": Prompt}.get(kind)
        if model is not None and pk and not model.objects.filter(pk=pk).exists():
            gone.append(reference)
    for start in range(0, len(gone), 500):
        for kind, text in neutral.items():
            CreditEntry.objects.filter(reference__in=gone[start : start + 500], kind=kind).exclude(
                reason=text
            ).update(reason=text)


class Migration(migrations.Migration):

    dependencies = [
        ('avatars', '0004_submit_crashes_day_indexes_deletion_by_title'),
        ('credits', '0004_ledger_reasons_can_be_neutralised'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='avatar',
            options={'ordering': ['-created_at'], 'permissions': [('refund_avatar', "Can refund an avatar's credits"), ('delete_avatar_tune', "Can delete an avatar's tune at Astria")]},
        ),
        migrations.AddField(
            model_name='astriatunedeletion',
            name='prompts',
            field=models.JSONField(blank=True, default=list, help_text='[base tune id, prompt id] of the prompts still to delete first.'),
        ),
        migrations.AlterField(
            model_name='callbackevent',
            name='avatar',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='callback_events', to='avatars.avatar'),
        ),
        migrations.AlterField(
            model_name='callbackevent',
            name='prompt',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='callback_events', to='avatars.prompt'),
        ),
        migrations.RunPython(erase_what_deleted_avatars_left, migrations.RunPython.noop),
    ]

"""Welcome credits are claimed once per person, by a hash of the normalised address; accounts that
already got theirs are recorded as claims, so deleting one no longer frees the grant."""

import django.utils.timezone
from django.db import migrations, models


def claim_existing_grants(apps, schema_editor):
    from studio.credits.services import address_fingerprint

    CreditEntry = apps.get_model("credits", "CreditEntry")
    SignupGrantClaim = apps.get_model("credits", "SignupGrantClaim")
    emails = CreditEntry.objects.filter(key__startswith="signup:").values_list("user__email", flat=True)
    claims = {address_fingerprint(email) for email in emails.iterator() if not email.endswith("@deleted.invalid")}
    SignupGrantClaim.objects.bulk_create(
        [SignupGrantClaim(address_hash=claim) for claim in claims], batch_size=1000, ignore_conflicts=True
    )


class Migration(migrations.Migration):

    dependencies = [
        ('credits', '0002_ledger_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='SignupGrantClaim',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('address_hash', models.CharField(max_length=64, unique=True)),
                ('claimed_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RunPython(claim_existing_grants, migrations.RunPython.noop),
    ]

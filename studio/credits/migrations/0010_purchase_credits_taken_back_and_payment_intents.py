"""Credits staff take back for a refund or a lost dispute are counted on the purchase; and every
Stripe purchase paid before it kept its PaymentIntent gets it from its recorded checkout event, so
refunds and disputes find their purchase by an index."""

from django.db import migrations, models


def keep_payment_intents(apps, schema_editor):
    CreditPurchase = apps.get_model("credits", "CreditPurchase")
    PaymentEvent = apps.get_model("credits", "PaymentEvent")
    missing = CreditPurchase.objects.filter(
        provider="stripe", status__in=["paid", "refused"], payment_intent_id=""
    ).exclude(provider_session_id="")
    if not missing.exists():
        return
    sessions = PaymentEvent.objects.filter(provider="stripe", type__startswith="checkout.session.").values_list(
        "payload__data__object__id", "payload__data__object__payment_intent"
    )
    paid_by = {
        session: payment_intent
        for session, payment_intent in sessions.iterator()
        if isinstance(session, str) and isinstance(payment_intent, str) and payment_intent
    }
    for purchase in missing.only("pk", "provider_session_id").iterator():
        if payment_intent := paid_by.get(purchase.provider_session_id):
            CreditPurchase.objects.filter(pk=purchase.pk).update(payment_intent_id=payment_intent)


class Migration(migrations.Migration):

    dependencies = [
        ('credits', '0009_refused_refunded_and_disputed_payments'),
    ]

    operations = [
        migrations.AddField(
            model_name='creditpurchase',
            name='taken_back',
            field=models.PositiveIntegerField(default=0, help_text='Credits staff took back from its wallet for a refund or a lost dispute.'),
        ),
        migrations.RunPython(keep_payment_intents, migrations.RunPython.noop),
    ]

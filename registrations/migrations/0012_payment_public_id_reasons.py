"""Payments get a public id for the addresses Stripe sends people back to (the manage token no
longer travels to Stripe), and the refund reasons for money that settles nothing or that was
paid for an amount no longer owed. Existing rows each get their own public id."""

import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    Payment = apps.get_model("registrations", "Payment")
    for payment in Payment.objects.using(schema_editor.connection.alias).filter(
        public_id__isnull=True
    ):
        payment.public_id = uuid.uuid4()
        payment.save(update_fields=["public_id"])


REASONS = [
    ("cancelled", "Aanmelding geannuleerd"),
    ("activity_cancelled", "Activiteit geannuleerd"),
    ("organiser", "Door een organisator"),
    ("late_no_place", "Te laat betaald, geen plaats meer vrij"),
    ("duplicate", "Dubbel betaald"),
    ("not_admitted", "Betaald voor een aanmelding die niet meer geldt"),
    ("outdated", "Betaald voor een bedrag dat niet meer geldt"),
    ("wrong_amount", "Ander bedrag of andere valuta betaald"),
    ("not_its_session", "Betaald via een sessie die niet bij de poging hoort"),
]


class Migration(migrations.Migration):
    dependencies = [("registrations", "0011_message_recipient_possibly_sent")]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="payment",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="historicalpayment",
            name="public_id",
            field=models.UUIDField(db_index=True, default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name="payment",
            name="refund_reason",
            field=models.CharField(
                blank=True, choices=REASONS, max_length=30, verbose_name="reden van terugbetalen"
            ),
        ),
        migrations.AlterField(
            model_name="historicalpayment",
            name="refund_reason",
            field=models.CharField(
                blank=True, choices=REASONS, max_length=30, verbose_name="reden van terugbetalen"
            ),
        ),
    ]

from anymail.signals import tracking
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationsConfig(AppConfig):
    name = "registrations"
    verbose_name = _("Aanmeldingen")

    def ready(self) -> None:
        # Not at the top: this module is loaded before the app registry; these need models.
        from events.signals import activity_price_changed
        from registrations import signals, tasks
        from registrations.backoffice import messaging
        from registrations.payments import services as payments

        # Deliveries, bounces and complaints reported by the ESP's webhook (/anymail/<esp>/...).
        tracking.connect(
            messaging.record_tracking_event, dispatch_uid="registrations.message_tracking"
        )
        # A failed refund is mailed to the organisers by a task (`refunds` cannot import tasks:
        # the refund task imports it).
        signals.refund_failed.connect(
            tasks.on_refund_failed, dispatch_uid="registrations.refund_failed_mail"
        )
        # Sessions under way ask the old price: closed, so they cannot be paid any more.
        activity_price_changed.connect(
            payments.on_activity_price_changed, dispatch_uid="registrations.price_changed"
        )

"""Celery tasks of the notification system: thin, they take ids and call a service."""

from celery import shared_task
from django.conf import settings

from notifications import services


@shared_task(
    bind=True,
    autoretry_for=(services.DeliveryFailed,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=settings.NOTIFICATIONS_MAX_ATTEMPTS,
    acks_late=True,
)
def send_email(self, outbox_id):
    return services.send_outbox(outbox_id=outbox_id)


@shared_task
def deliver_pending():
    return services.deliver_pending()

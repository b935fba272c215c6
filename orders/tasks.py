"""Celery tasks of the order desk: thin, they take ids and call a service."""

from celery import shared_task

from orders import checks, notifications


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def notify_transition(self, log_id, order_id, name, source, actor_id):
    return notifications.notify_transition(log_id=log_id, order_id=order_id, name=name, actor_id=actor_id)


@shared_task
def check_overdue():
    return checks.run_checks()

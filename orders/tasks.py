"""Celery tasks of the order desk: thin, they take ids and call a service."""

from celery import shared_task

from orders import checks, notifications


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def notify_transition(self, log_id, order_id, name, source, actor_id):
    """Re-deliver a transition's notifications (idempotent). `run_transition` writes them itself,
    in its own transaction (the outbox); this task stays for re-runs and older queued messages."""
    return notifications.notify_transition(log_id=log_id, order_id=order_id, name=name, actor_id=actor_id)


@shared_task
def check_overdue():
    """All scheduled checks (overdue, at risk, stale, receivables, review waiting, escalation)."""
    return checks.run_checks()


@shared_task
def run_check(name):
    """One scheduled check by name (see :data:`orders.checks.CHECKS`)."""
    return checks.run_check(name)


@shared_task
def validate_import(job_id):
    """Check an uploaded order sheet (progress is stored on the ImportJob, polled by its page)."""
    from orders import imports as order_imports

    return order_imports.validate_import(job_id=job_id)

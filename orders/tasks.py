"""Celery tasks of the order desk: thin, they take ids and call a service."""

from celery import shared_task

from orders import checks


@shared_task
def check_overdue():
    """All scheduled checks (overdue, at risk, stale, receivables, review waiting, escalation)."""
    return checks.run_checks()


@shared_task
def run_check(name):
    """One scheduled check by name (see :data:`orders.checks.CHECKS`)."""
    return checks.run_check(name)


@shared_task
def compact_state_tallies():
    """Fold the per-state order tallies (beat, every five minutes)."""
    from orders import services

    return services.compact_state_tallies()


@shared_task
def validate_import(job_id):
    """Check an uploaded order sheet (progress is stored on the ImportJob, polled by its page)."""
    from orders import imports as order_imports

    return order_imports.validate_import(job_id=job_id)

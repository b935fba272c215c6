"""Celery tasks of supervision: thin, they call a service."""

from celery import shared_task


@shared_task
def fold_kpi_rollup():
    """Fold the marked orders into the KPI rollup and drop empty days (beat, every five minutes)."""
    from supervision import kpi_rollup

    return kpi_rollup.fold_and_compact()

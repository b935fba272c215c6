from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _kpi_rollup_after_migrate(sender, using=DEFAULT_DB_ALIAS, apps=None, **kwargs):
    """After ``migrate`` (and ``flush``): build the KPI rollup if it was never built or was built in another time
    zone (:func:`supervision.kpi_rollup.check_zone`)."""
    if using != DEFAULT_DB_ALIAS:
        return
    try:
        if apps is not None:
            apps.get_model("supervision", "KpiRollupZone")
    except LookupError:  # migrated back before the rollup
        return
    from supervision import kpi_rollup

    kpi_rollup.check_zone()


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("Supervision")

    def ready(self):
        post_migrate.connect(_kpi_rollup_after_migrate, sender=self, dispatch_uid="supervision.kpi_rollup")

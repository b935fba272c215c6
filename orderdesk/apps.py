from django.apps import AppConfig


class OrderDeskConfig(AppConfig):
    """The project package as an app: start-up checks and the security signals (issue 9)."""

    name = "orderdesk"
    verbose_name = "OrderDesk"

    def ready(self):
        from django.core import checks

        from orderdesk import settings_checks, tokens

        checks.register(settings_checks.check_embedded_defaults, checks.Tags.security, deploy=True)
        settings_checks.warn_embedded_defaults()
        tokens.connect_signals()

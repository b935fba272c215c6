from django.core.management.base import BaseCommand

from orders.checks import run_checks


class Command(BaseCommand):
    help = "Run the overdue and at-risk checks now (the same code the Celery schedule runs)."

    def handle(self, *args, **options):
        result = run_checks()
        for name, count in result.items():
            self.stdout.write(f"{name}: {count}")

from django.core.management.base import BaseCommand, CommandError

from orders.checks import CHECKS, REMINDERS, run_checks


class Command(BaseCommand):
    help = (
        "Run the scheduled checks now — overdue, at risk, stale, overdue receivables, review waiting — "
        "with their resolution and escalation (the same code the Celery schedule runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--only", action="append", choices=[*CHECKS, *REMINDERS], help="run only this check (repeatable)"
        )

    def handle(self, *args, **options):
        try:
            result = run_checks(names=options.get("only"))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for name, count in result.items():
            self.stdout.write(f"{name}: {count}")

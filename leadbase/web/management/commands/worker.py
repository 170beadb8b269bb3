"""leadbase worker: run background tasks (emails, imports, duplicate detection) only."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run background tasks only, for scale-out. Uses the database queue, or RQ workers when "
        "REDIS_URL is set. Stops cleanly on SIGTERM after the task in hand."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls of an empty database queue")
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")

    def handle(self, *args, **options):
        if settings.REDIS_URL:
            call_command(
                "rqworker", "default", job_class="django_tasks_rq.backend.Job", with_scheduler=not options["batch"],
                burst=options["batch"], verbosity=options["verbosity"],
            )
            return
        call_command(
            "db_worker", interval=options["interval"], batch=options["batch"], startup_delay=False,
            queue_name="*", reload=False, verbosity=options["verbosity"],
        )

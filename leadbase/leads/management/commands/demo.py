"""leadbase demo: load a realistic workspace `demo` and print how to log in."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Role, Workspace
from leadbase.leads.actions import do_assign_owner, do_change_stage, do_create_lead
from leadbase.leads.duplicates import scan_range
from leadbase.leads.importer import import_file
from leadbase.leads.models import Lead, Source, Stage, TouchKind
from leadbase.leads.sample import write_csv

# People who arrive through forms and the API, with the channel that brought them; the first
# pairs are near-duplicates of each other (same company, name spelled differently) to review.
CAPTURED = [
    ({"name": "Jonathan Pryce", "email": "jon.pryce@globex.com", "company": "Globex"}, "instagram", "spring-launch"),
    ({"name": "Jon Pryce", "email": "j.pryce@globex.com", "company": "Globex"}, "linkedin", "spring-launch"),
    ({"name": "Katarzyna Nowak", "email": "k.nowak@initech.com", "company": "Initech"}, "facebook", "webinar-may"),
    ({"name": "Katarzyna Nowakowa", "phone": "+48 512 345 678", "company": "Initech", "email": "kasia@initech.com"},
     "youtube", "webinar-may"),
    ({"name": "Mei Chen", "email": "mei.chen@hooli.com", "phone": "+1 415 555 0134"}, "x", "launch-thread"),
    ({"name": "Amara Okafor", "phone": "+234 803 123 4567"}, "instagram", "reel-42"),
]


class Command(BaseCommand):
    help = (
        "Load a realistic demo workspace `demo`: a few thousand leads imported from several sources "
        "and countries, leads captured through forms and the API with UTM tags, and possible "
        "duplicates to review. Prints how to log in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=3000, help="rows in the demo import (default 3000)")
        parser.add_argument("--password", help="password for demo@example.com (default: generated)")

    def handle(self, *args, **options):
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        password = options["password"] or secrets.token_urlsafe(9)
        owner = do_create_user("demo@example.com", password, workspace_slug="demo", role=Role.OWNER, name="Dana Demo")
        sales = do_create_user("sales@example.com", password, workspace_slug="demo", role=Role.SALES, name="Sam Seller")
        workspace = Workspace.objects.get(slug="demo")
        if not Lead.objects.filter(workspace=workspace).exists():
            self._load(workspace, owner, sales, options["leads"])
        count = Lead.objects.filter(workspace=workspace).count()
        self.stdout.write(f"The demo workspace has {count} leads.")
        self.stdout.write(f"Log in at http://127.0.0.1:8000 as demo@example.com with password {password}")
        self.stdout.write(f"(sales rep: sales@example.com, same password)")

    def _load(self, workspace, owner, sales, rows: int) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_csv(Path(tmp) / "trade-show-2026.csv", rows)
            import_file(workspace, path, actor=owner, workers=1)
        for record, channel, campaign in CAPTURED:
            source = Source.API if channel == "x" else Source.FORM
            do_create_lead(
                workspace, {**record, "utm_source": channel, "utm_medium": "social", "utm_campaign": campaign},
                actor=None, source=source, source_ref="contact" if source == Source.FORM else "api",
                actor_label="form contact" if source == Source.FORM else "API",
                touch_kind=TouchKind.FORM_SUBMITTED if source == Source.FORM else TouchKind.CREATED,
                last_touch={"source": source, "utm_source": channel, "utm_campaign": campaign},
            )
        for lead in Lead.objects.filter(workspace=workspace).order_by("?")[:40]:
            do_assign_owner(lead, sales, actor=owner)
            do_change_stage(lead, Stage.SALES_READY, actor=owner)
        first = Lead.objects.filter(workspace=workspace).order_by("id").values_list("id", flat=True).first()
        last = Lead.objects.filter(workspace=workspace).order_by("-id").values_list("id", flat=True).first()
        scan_range(workspace.pk, first, last)

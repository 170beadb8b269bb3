"""leadbase demo: load a realistic workspace `demo` and print how to log in."""

from __future__ import annotations

import random
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from leadbase.accounts.actions import do_create_user
from leadbase.accounts.errors import AccountError
from leadbase.accounts.models import Role, Workspace
from leadbase.capture.actions import SubmitMeta, do_submit_form
from leadbase.capture.channels_demo import load_demo_channels
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import Submission
from leadbase.leads.actions import do_assign_owner, do_change_stage, do_confirm_consent
from leadbase.leads.duplicates import scan_range
from leadbase.leads.importer import import_file
from leadbase.leads.models import Consent, Lead, Stage
from leadbase.leads.sample import ascii_key, write_csv

# People who found the business on a social channel, clicked a tracked link and left their
# details on /p/contact. The first two pairs are possible duplicates of each other to review (the
# same email domain, the given name spelled two ways). Their addresses are at reserved domains
# (RFC 2606): the demo leaves confirmation emails queued for those who did not confirm, and the
# operator's worker sends them through the real mail server.
CAPTURED = [
    ({"name": "Jonathan Pryce", "email": "jon.pryce@globex.example"}, "instagram"),
    ({"name": "Jonathon Pryce", "email": "j.pryce@globex.example"}, "facebook"),
    ({"name": "Katarzyna Nowak", "email": "k.nowak@initech.example"}, "facebook"),
    ({"name": "Katarzina Nowak", "phone": "+48 512 345 678", "email": "kasia@initech.example"}, "youtube"),
    ({"name": "Mei Chen", "email": "mei.chen@hooli.example", "phone": "+1 415 555 0134"}, "x"),
    ({"name": "Amara Okafor", "phone": "+234 803 123 4567", "email": "amara.okafor@example.com"}, "instagram"),
]
FIRST = ["Lena", "Omar", "Sofia", "Ravi", "Chloé", "Mateo", "Yuki", "Noah", "Aisha", "Lucas", "Ingrid", "Tariq"]
LAST = ["Berg", "Haddad", "Rossi", "Menon", "Laurent", "Silva", "Mori", "Walsh", "Bello", "Costa", "Lund", "Aziz"]


class Command(BaseCommand):
    help = (
        "Load a realistic demo workspace `demo`: a few thousand leads imported from several sources "
        "and countries, the form `contact` on /p/contact, social channels with follower history and "
        "tracked links, leads captured through them, and possible duplicates to review. Prints how "
        "to log in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=3000, help="rows in the demo import (default 3000)")
        parser.add_argument("--password", help="password for demo@example.com (default: generated)")

    def handle(self, *args, **options):
        from django.core.management import call_command

        if options["leads"] < 1:
            raise CommandError(f"--leads must be at least 1, not {options['leads']}")
        call_command("migrate", interactive=False, verbosity=0)
        password = options["password"] or secrets.token_urlsafe(9)
        try:
            owner = do_create_user("demo@example.com", password, workspace_slug="demo", role=Role.OWNER, name="Dana Demo")
        except AccountError as exc:  # --password too short or too common: said as createuser says it
            raise CommandError(exc.message) from None
        sales = do_create_user("sales@example.com", password, workspace_slug="demo", role=Role.SALES, name="Sam Seller")
        workspace = Workspace.objects.get(slug="demo")
        if not Lead.objects.filter(workspace=workspace).exists():
            self._load(workspace, owner, sales, options["leads"])
        count = Lead.objects.filter(workspace=workspace).count()
        self.stdout.write(f"The demo workspace has {count} leads.")
        self.stdout.write("Start Leadbase with `leadbase serve` (unless it is running), then:")
        self.stdout.write(f"Log in at {settings.BASE_URL} as demo@example.com with password {password}")
        self.stdout.write("(sales rep: sales@example.com, same password)")

    def _submit(self, workspace, form, demo) -> None:
        """Visitors arrive through the channels' tracked links over the last 12 weeks and submit
        the contact form (the real pipeline: journal, lead, pending consent); most confirm. Their
        addresses are made up, so no confirmation email is sent (it bounced off a real server)."""
        rng = random.Random(11)
        people = [(record, platform) for record, platform in CAPTURED]
        for i in range(72):
            given, family = FIRST[i % len(FIRST)], LAST[(i * 5) % len(LAST)]
            people.append(({"name": f"{given} {family}", "email": f"{ascii_key(given)}.{ascii_key(family)}{i}@example.com"},
                           rng.choice(list(demo.links))))
        today = timezone.now()
        for i, (record, platform) in enumerate(people):
            link = rng.choice(demo.links[platform])
            payload = {**record, "consent_email_marketing": "on", "lb_link": link.code,
                       "utm_source": link.utm_source, "utm_medium": link.utm_medium, "utm_campaign": link.utm_campaign}
            result = do_submit_form(form, payload, SubmitMeta(ip=f"198.51.100.{i % 250 + 1}", user_agent="Mozilla/5.0 (demo)",
                                                         emails=False))  # made-up people: no email
            if result.lead_id is None:
                continue
            lead = Lead.objects.get(pk=result.lead_id)
            if rng.random() < 0.8:
                do_confirm_consent(lead, "email_marketing", ip=None)
            # History for the reports: spread the arrivals over the weeks the channels ran.
            when = today - timedelta(days=rng.randint(0, 83), hours=rng.randint(0, 23))
            Lead.objects.filter(pk=lead.pk).update(created_at=when)
            Consent.objects.filter(lead=lead).update(at=when + timedelta(minutes=5))
            Submission.objects.filter(pk=result.submission_id).update(received_at=when)

    def _load(self, workspace, owner, sales, rows: int) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_csv(Path(tmp) / "trade-show-2026.csv", rows)
            import_file(workspace, path, actor=owner, workers=1)
        form = load_demo_forms(workspace, owner)
        demo = load_demo_channels(workspace, owner)
        self._submit(workspace, form, demo)
        for lead in Lead.objects.filter(workspace=workspace).order_by("?")[:40]:
            do_assign_owner(lead, sales, actor=owner)
            do_change_stage(lead, Stage.SALES_READY, actor=owner)
        first = Lead.objects.filter(workspace=workspace).order_by("id").values_list("id", flat=True).first()
        last = Lead.objects.filter(workspace=workspace).order_by("-id").values_list("id", flat=True).first()
        scan_range(workspace.pk, first, last)

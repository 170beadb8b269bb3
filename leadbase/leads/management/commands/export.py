"""leadbase export [--workspace SLUG] [--format csv|jsonl] [-o FILE]"""

import sys

from django.core.management.base import BaseCommand, CommandError

from leadbase.accounts.errors import AccountError
from leadbase.accounts.setup import workspace_for_command
from leadbase.leads.export import stream_leads


class Command(BaseCommand):
    # Django's system checks load the whole URL configuration (the API and its schemas), about a
    # second before the first row; they check the code, which `leadbase serve` checks at start.
    requires_system_checks: tuple[str, ...] = ()
    help = (
        "Export leads with normalized fields (columns start with id,name,email,phone; phone in E.164). "
        "CSV cells that could run as spreadsheet formulas are neutralized."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="workspace slug (default: the only one)")
        parser.add_argument("--format", default="csv", choices=("csv", "jsonl"))
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        try:
            workspace = workspace_for_command(options["workspace"])
        except AccountError as exc:
            raise CommandError(exc.message) from None
        try:
            out = open(options["output"], "w", newline="", encoding="utf-8") if options["output"] else sys.stdout
        except OSError as exc:
            raise CommandError(f"Cannot write {options['output']}: {exc.strerror}.") from None
        try:
            for chunk in stream_leads(workspace, options["format"]):
                out.write(chunk)
        finally:
            if out is not sys.stdout:
                out.close()

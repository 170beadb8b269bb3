"""leadbase import FILE [--workspace SLUG] [--region CC] [--dry-run] [--json] [--report OUT.csv]"""

from __future__ import annotations

import json
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from leadbase.accounts.errors import AccountError
from leadbase.accounts.setup import workspace_for_command
from leadbase.leads.importer import ImportFileError, ImportReport, ImportStopped, import_file

SHOWN = 20  # rejected rows listed in the summary; --report FILE has them all


class Command(BaseCommand):
    # Django's system checks load the whole URL configuration (the API and its schemas), about a
    # second before the first row; they check the code, which `leadbase serve` checks at start.
    requires_system_checks: tuple[str, ...] = ()
    help = (
        "Import leads from a CSV file (delimiter, BOM and encoding are detected; common column "
        "names are mapped). Re-running a file creates nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--workspace", help="workspace slug (default: the only one)")
        parser.add_argument(
            "--region",
            help="country of phone numbers without + in rows without a country (US, DE, Germany…)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and report, but write nothing")
        parser.add_argument("--json", action="store_true", help="print the report as JSON on standard output")
        parser.add_argument("--report", metavar="OUT.csv", help="write row,outcome,lead_id,code,message per data row")
        parser.add_argument("--workers", type=int, help="cleaning processes (default: LEADBASE_IMPORT_WORKERS)")

    def handle(self, *args, **options):
        if not os.path.isfile(options["file"]):
            raise CommandError(f"No such file: {options['file']}")
        if options["workers"] is not None and options["workers"] < 1:  # it was taken without a word
            raise CommandError(f"--workers must be at least 1, not {options['workers']}")
        region = _region(options["region"])
        try:
            workspace = workspace_for_command(options["workspace"])
        except AccountError as exc:
            raise CommandError(exc.message) from None
        try:
            report_file = open(options["report"], "w", newline="", encoding="utf-8") if options["report"] else None
        except OSError as exc:
            raise CommandError(f"Cannot write {options['report']}: {exc.strerror}.") from None
        bar = _ProgressBar() if sys.stderr.isatty() and not options["json"] else None
        try:
            report = import_file(
                workspace, options["file"], region=region, dry_run=options["dry_run"], report_file=report_file,
                progress=bar.update if bar else None, workers=options["workers"],
                keep_rejections=None if options["json"] else SHOWN,  # --json lists them all
            )
        except ImportFileError as exc:
            raise CommandError(f"{options['file']}: {exc.message}") from None
        except ImportStopped as exc:
            raise CommandError(f"{options['file']}: {exc}") from None
        finally:
            if bar:
                bar.stop()
            if report_file:
                report_file.close()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False))
            return
        self._summary(report, options["dry_run"])

    def _summary(self, report: ImportReport, dry_run: bool) -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console(file=self.stdout._out)
        title = "Dry run (nothing written)" if dry_run else "Import"
        table = Table(title=f"{title}: {report.rows} rows in {report.elapsed_s:.1f} s")
        for column in ("created", "merged", "rejected", "warnings"):
            table.add_column(column, justify="right")
        table.add_row(str(report.created), str(report.merged), str(report.rejected), str(report.warnings))
        console.print(table)
        if report.rejections:
            shown = Table(title="Rejected rows" + (f" (first {SHOWN})" if report.rejected > SHOWN else ""))
            shown.add_column("row", justify="right")
            shown.add_column("code")
            shown.add_column("message")
            for r in report.rejections:
                shown.add_row(str(r["row"]), r["code"], r["message"])
            console.print(shown)


def _region(value: str | None) -> str | None:
    """The ISO code of ``--region``, read like a country column (``de``, ``Germany``, ``UK``).

    Refused unless phone numbers have a numbering plan there: an unknown region would silently
    turn every number written without + into an ``invalid_phone``.
    """
    if not value:
        return None
    import phonenumbers

    from leadbase.lib.countries import country_code

    code = country_code(value)
    if code is None or code not in phonenumbers.SUPPORTED_REGIONS:
        raise CommandError(
            f"--region {value!r} is not a country: use a two-letter code such as US, GB or DE."
        )
    return code


class _ProgressBar:
    """A rich progress display on the terminal: rows processed so far and the time elapsed."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("importing"), BarColumn(), TextColumn("{task.fields[rows]} rows"),
                                 TimeElapsedColumn(), transient=True)
        self.task = self.progress.add_task("import", total=None, rows=0)
        self.progress.start()

    def update(self, report: ImportReport) -> None:
        self.progress.update(self.task, rows=report.rows)

    def stop(self) -> None:
        self.progress.stop()

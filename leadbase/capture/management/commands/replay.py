"""leadbase replay: process the failed submissions of the journal again."""

from __future__ import annotations

import argparse
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from leadbase.capture.actions import do_replay_submission
from leadbase.capture.models import Form, Submission, SubmissionStatus
from leadbase.rows import MAX_ID

REPLAY_CHUNK = 500  # journal rows read at once


def submission_id(text: str) -> int:
    """``--id``: a whole number an id can be (a larger one made the query overflow)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text} is not a submission id (1 to {MAX_ID})")
    return value


class Command(BaseCommand):
    help = (
        "Process failed form submissions again (oldest first), with each form's current "
        "definition. A row that works becomes processed (its lead is created or merged, consents "
        "recorded, confirmation email sent); one the lead rules refuse becomes rejected; one that "
        "fails again stays failed with its new error and is counted. Safe to run while the "
        "server runs, and twice at once: each row is claimed before it is processed. Prints the "
        "counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--form", metavar="SLUG", help="only the submissions of this form")
        parser.add_argument(
            "--id",
            type=submission_id,
            action="append",
            dest="ids",
            metavar="ID",
            help="only this submission (repeatable)",
        )
        parser.add_argument(
            "--limit", type=int, default=0, help="process at most this many rows (default: all)"
        )

    def handle(self, *args, **options):
        if options["limit"] < 0:
            raise CommandError("--limit must be 0 (all rows) or more.")
        rows = Submission.objects.filter(status=SubmissionStatus.FAILED).order_by("id")
        if options["form"]:
            form = Form.objects.filter(slug=options["form"]).first()
            if form is None:
                raise CommandError(f"There is no form {options['form']!r}.")
            rows = rows.filter(form=form)
        if options["ids"]:
            rows = rows.filter(id__in=options["ids"])
        ids = list(rows.values_list("id", flat=True)[: options["limit"] or None])
        if options["ids"]:  # an id that is not a failed post was passed over without a word
            found = dict(Submission.objects.filter(id__in=options["ids"]).values_list("id", "status"))
            for asked in sorted(set(options["ids"]) - set(ids)):
                if asked not in found:
                    self.stderr.write(f"There is no submission #{asked}.")
                elif found[asked] != SubmissionStatus.FAILED:
                    self.stderr.write(f"Submission #{asked} is {found[asked]}, not failed: nothing to replay.")
        counts: Counter[str] = Counter()
        # Read a chunk to its end before replaying it: on SQLite a write from a connection still
        # reading an older snapshot (the server commits posts meanwhile) fails at once as locked.
        for start in range(0, len(ids), REPLAY_CHUNK):
            for row in list(Submission.objects.filter(id__in=ids[start : start + REPLAY_CHUNK]).order_by("id")):
                result = do_replay_submission(row)
                counts[result.status] += 1
                if result.status == SubmissionStatus.REJECTED and options["verbosity"] > 1:
                    self.stdout.write(f"#{row.pk} rejected: {result.message}")
        self.stdout.write(
            f"Replayed {len(ids)} failed submission(s): {counts['processed']} processed, "
            f"{counts['rejected']} rejected, {counts['failed']} still failed, "
            f"{counts['skipped']} skipped (taken by another replay)."
        )
        if counts["failed"]:
            self.stderr.write(
                "Some submissions failed again; see their error in the journal or the log."
            )
        if options["ids"] and set(options["ids"]) - found.keys():  # a mistyped id: a script can tell
            raise CommandError("Not every --id names a submission (see above).")

"""Background tasks of the leads app (run by `leadbase worker`, enqueued on commit)."""

from __future__ import annotations

from django_tasks import task


@task()
def scan_possible_duplicates(
    workspace_id: int, first_id: int | None = None, last_id: int | None = None
) -> int:
    """Suggest possible duplicates for the new leads of the workspace's pending scan (or, for a
    task queued with an explicit range before scans were coalesced, for ids in that range)."""
    from django.db import transaction

    from leadbase.leads.duplicates import scan_range
    from leadbase.leads.models import PendingScan

    if first_id is None or last_id is None:
        # Take the range: leads created from now on start a new pending scan and task.
        with transaction.atomic():
            pending = PendingScan.objects.select_for_update().filter(workspace_id=workspace_id).first()
            if pending is None:
                return 0  # another run took it
            first_id, last_id = pending.first_id, pending.last_id
            pending.delete()
    return scan_range(workspace_id, first_id, last_id)


@task(queue_name="imports")  # its own worker lane: it runs for minutes (leadbase/worker.py)
def run_import(import_id: int) -> None:
    """Run a web upload's import (same code path as `leadbase import`)."""
    from leadbase.leads.importer import run_import_job

    run_import_job(import_id)

"""Background tasks of the leads app (run by `leadbase worker`, enqueued on commit)."""

from __future__ import annotations

from django_tasks import task


@task()
def scan_possible_duplicates(workspace_id: int, first_id: int, last_id: int) -> int:
    """Suggest possible duplicates for new leads with ids in [first_id, last_id]."""
    from leadbase.leads.duplicates import scan_range

    return scan_range(workspace_id, first_id, last_id)


@task()
def run_import(import_id: int) -> None:
    """Run a web upload's import (same code path as `leadbase import`)."""
    from leadbase.leads.importer import run_import_job

    run_import_job(import_id)

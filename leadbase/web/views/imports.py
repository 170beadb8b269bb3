"""Import a CSV: upload → column mapping with a preview → progress (htmx polling) → result and
report download, plus the list of past imports. Owners and marketers only.

The web and `leadbase import` share one code path: ``leadbase.leads.importer``.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from leadbase.leads.importer import (
    MAPPING_CHOICES,
    ImportFileError,
    do_set_import_mapping,
    do_start_import,
    do_upload_import,
    preview_rows,
)
from leadbase.leads.models import ImportStatus
from leadbase.leads.queries import get_import_for_user, imports_for_user
from leadbase.lib.columns import validate_mapping
from leadbase.lib.csvfile import CsvError
from leadbase.web.access import member_required
from leadbase.web.forms import MappingForm, UploadForm
from leadbase.web.views.util import wants_partial


@member_required(manage=True)
def import_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "imports/list.html",
        {"imports": imports_for_user(request.membership), "nav": "import"},
    )


@member_required(manage=True)
def import_new(request: HttpRequest) -> HttpResponse:
    """Upload a file; on success go on to the mapping. A refused file changes nothing."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = do_upload_import(
                request.membership.workspace, form.cleaned_data["file"], actor=request.user
            )
        except ImportFileError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("web:import_mapping", pk=job.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/new.html", {"form": form, "nav": "import"}, status=status)


@member_required(manage=True)
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the guessed column mapping against the first rows, then start the import."""
    job = get_import_for_user(request.membership, pk)
    if job.status != ImportStatus.UPLOADED:
        return redirect("web:import", pk=job.pk)
    form = MappingForm(request.POST or None, job=job, choices=MAPPING_CHOICES)
    if request.method == "POST" and form.is_valid():
        try:
            do_set_import_mapping(
                job, form.mapping, form.cleaned_data["region"], actor=request.user
            )
            do_start_import(job, actor=request.user)
        except ImportFileError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("web:import", pk=job.pk)
    try:
        rows = preview_rows(job, limit=10)
    except (CsvError, OSError):
        rows = []
    width = len(job.header)
    rows = [(row + [""] * width)[:width] for row in rows]
    if request.method == "POST":
        status, problem = 400, ""
    else:
        status, problem = 200, mapping_problem(job.mapping)
    return render(
        request,
        "imports/mapping.html",
        {
            "job": job,
            "form": form,
            "rows": rows,
            "problem": problem,
            "nav": "import",
        },
        status=status,
    )


def mapping_problem(mapping: list[str]) -> str:
    """Why the guessed mapping cannot import anything yet ("" when it can), shown up front."""
    try:
        validate_mapping(mapping)
    except CsvError as exc:
        return exc.message
    except ValueError:
        return ""
    return ""


@member_required(manage=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress while the import runs (htmx polls the partial every second), then the result."""
    job = get_import_for_user(request.membership, pk)
    if job.status == ImportStatus.UPLOADED:
        return redirect("web:import_mapping", pk=job.pk)
    context = {
        "job": job,
        "running": job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
        "files_days": settings.IMPORT_FILES_DAYS,
        "nav": "import",
    }
    if wants_partial(request):
        return render(request, "imports/_progress.html", context)
    return render(request, "imports/detail.html", context)


@member_required(manage=True)
def import_report(request: HttpRequest, pk: int) -> FileResponse:
    """The per-row report (row,outcome,lead_id,code,message) as a CSV download."""
    job = get_import_for_user(request.membership, pk)
    path = Path(job.report_path) if job.report_path else None
    if job.files_deleted_at is not None:
        raise Http404(f"The report of this import was deleted {settings.IMPORT_FILES_DAYS} days after the import.")
    if path is None or not path.is_file():
        raise Http404("This import has no report yet.")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"import-{job.pk}-report.csv",
        content_type="text/csv",
    )

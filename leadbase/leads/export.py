"""Stream a workspace's leads as CSV or JSONL with normalized fields.

Columns start with ``id,name,email,phone`` (phone in E.164, extension as ``;ext=``-free column).
CSV cells are neutralized against spreadsheet formula injection (OWASP); JSONL values are data,
not cells, and are left as they are. Rows are read in keyset order, a chunk at a time, so memory
is flat at any size.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from leadbase.accounts.models import Workspace
from leadbase.leads.models import Lead
from leadbase.lib.spreadsheet import neutralize

COLUMNS = (
    "id", "name", "email", "phone", "phone_ext", "company", "job_title", "country", "stage", "score",
    "owner", "source", "source_ref", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "referrer", "given_name", "family_name", "created_at", "updated_at", "custom",
)
CHUNK = 2000


def iter_leads(workspace: Workspace) -> Iterator[dict]:
    """Every lead of the workspace as a flat dict in export column order, oldest first."""
    qs = Lead.objects.filter(workspace=workspace).order_by("id")
    fields = ("id", "name", "email", "phone_e164", "phone_ext", "company", "job_title", "country", "stage",
              "score", "owner__email", "source", "source_ref", "utm_source", "utm_medium", "utm_campaign",
              "utm_term", "utm_content", "referrer", "given_name", "family_name", "created_at", "updated_at",
              "custom", "email_key")
    last = 0
    while True:
        rows = list(qs.filter(id__gt=last).values_list(*fields)[:CHUNK])
        if not rows:
            return
        for row in rows:
            item = dict(zip(COLUMNS, row[:-1]))
            # A bad address kept for correction is not exported as if it were usable.
            item["email"] = item["email"] if row[-1] else ""
            item["phone"] = item["phone"] or ""
            item["owner"] = item["owner"] or ""
            item["created_at"] = item["created_at"].isoformat()
            item["updated_at"] = item["updated_at"].isoformat()
            yield item
        last = rows[-1][0]


def stream_leads(workspace: Workspace, fmt: str = "csv") -> Iterator[str]:
    """Chunks of text (about CHUNK rows each) for a file or a streaming HTTP response."""
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"Unknown export format {fmt!r}: use csv or jsonl.")
    buffer = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
    count = 0
    for item in iter_leads(workspace):
        if fmt == "csv":
            item["custom"] = json.dumps(item["custom"], ensure_ascii=False) if item["custom"] else ""
            writer.writerow([neutralize(v) if isinstance(v, str) else v for v in item.values()])
        else:
            buffer.write(json.dumps(item, ensure_ascii=False))
            buffer.write("\n")
        count += 1
        if count % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

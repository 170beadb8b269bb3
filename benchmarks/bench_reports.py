"""Reports, a form's journal and the channel pages on a workspace of realistic size: server time.

Fills a throwaway SQLite database (or reuses ``--data-dir``) with one workspace: N leads over two
years (a third of them made by form posts, most with consents, a few suppressed), 6 channels
with two years of daily follower counts, 30 tracked links, a million link clicks and 400,000
journal rows over three forms (processed, spam, failed, rejected; most through a tracked link,
with UTM tags), all written with one ``executemany`` per batch. Then requests every period of
*Sources*, every week range of *Owned vs rented*, their CSVs, a form's journal (first page, a
status filter, an older page), the channel pages and the page of a lead with many posts through
Django's test client (the whole server stack without a network hop), logged in as the owner.
Prints one JSON line per page (median and worst of ``--runs`` in ms, and its query count).

    .venv/bin/python benchmarks/bench_reports.py [--leads 300000] [--clicks 1000000]
        [--submissions 400000] [--runs 5] [--data-dir DIR] [--no-doc]

Target: every page well under a second (≤ 1,000 ms is the defect line).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from datetime import timezone as tz
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine, speed_gauge_ms, whole_number  # noqa: E402

DAYS = 730
PLATFORMS = ("instagram", "facebook", "x", "youtube", "linkedin", "tiktok")
FORMS = ("bench-contact", "bench-webinar", "bench-ebook")
CAMPAIGNS = ("spring", "summer", "black-friday", "launch", "webinar-q1", "ebook", "retarget")
#: utm_source of leads and posts: the platforms, their aliases, and sources no channel claims.
UTM_SOURCES = (*PLATFORMS, "ig", "fb", "twitter", "newsletter", "google", "")
BATCH = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=whole_number(1000), default=300_000)
    parser.add_argument("--clicks", type=whole_number(0), default=1_000_000)
    parser.add_argument("--submissions", type=whole_number(1000), default=400_000)
    parser.add_argument("--runs", type=whole_number(1), default=5)
    parser.add_argument("--data-dir", help="reuse this data dir (kept); default: a new temporary one")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    os.environ["LEADBASE_DATA_DIR"] = args.data_dir or tempfile.mkdtemp(prefix="leadbase-bench-reports-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadbase.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    membership, ids = _fill(args.leads, args.clicks, args.submissions)
    results, gauge = _measure(membership, ids, args.runs)
    if not args.no_doc:
        from benchmarks.common import update_doc

        update_doc(
            f"Reports, journal and channel pages, {args.leads:,} leads, SQLite",
            f"python benchmarks/bench_reports.py --leads {args.leads} --clicks {args.clicks} "
            f"--submissions {args.submissions} --runs {args.runs}",
            [
                *(
                    (label, f"median {median:.0f} ms, worst {worst:.0f} ms, {queries} queries", "< 1,000 ms")
                    for label, median, worst, queries in results
                ),
                ("machine speed gauge before the runs: a fixed Python loop, best of 5 (lower is faster)",
                 f"{gauge} ms", "—"),
            ],
        )


def _at(moment: datetime) -> str:
    """A UTC datetime as SQLite stores it (Django's own adaptation, without its per-call cost)."""
    return moment.replace(tzinfo=None).isoformat(sep=" ")


def _insert(table: str, columns: tuple[str, ...], rows) -> int:
    """INSERT ``rows`` (an iterable of tuples) into ``table``, one transaction per BATCH rows."""
    from django.db import connection, transaction

    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    batch, written = [], 0
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            with transaction.atomic(), connection.cursor() as cur:
                cur.executemany(sql, batch)
            written, batch = written + len(batch), []
    if batch:
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(sql, batch)
    return written + len(batch)


LEAD_COLUMNS = (
    "workspace_id", "name", "name_key", "given_name", "family_name", "family_key", "email",
    "email_key", "phone", "phone_e164", "phone_ext", "company", "job_title", "country", "custom",
    "problems", "alternates", "source", "source_ref", "utm_source", "utm_medium", "utm_campaign",
    "utm_term", "utm_content", "referrer", "last_touch", "stage", "disqualified_reason", "score",
    "owner_id", "created_at", "updated_at",
)  # fmt: skip
SUBMISSION_COLUMNS = (
    "workspace_id", "form_id", "received_at", "payload", "ip", "user_agent", "referrer",
    "page_url", "utm", "link_code", "status", "spam_reason", "error", "outcome", "lead_id",
    "attempts", "consent_texts",
)  # fmt: skip


def _fill(leads: int, clicks: int, submissions: int):
    """The bench workspace, filled once (a data dir that has it is reused as it is)."""
    from django.db import connection
    from django.utils import timezone

    from leadbase.accounts.actions import do_create_user
    from leadbase.accounts.models import Membership, Role, User
    from leadbase.capture.models import Channel, FollowerSnapshot, Form, LandingPage, TrackedLink
    from leadbase.leads.batch import contact_hash

    if not User.objects.filter(email="owner@bench.test").exists():
        do_create_user("owner@bench.test", "bench password", workspace_slug="bench", role=Role.OWNER)
    membership = Membership.objects.select_related("workspace", "user").get(user__email="owner@bench.test")
    ws = membership.workspace_id
    if Form.objects.filter(workspace_id=ws).exists():
        return membership, _ids(ws)

    started = time.perf_counter()
    rnd = random.Random(7)
    now = timezone.now().astimezone(tz.utc).replace(microsecond=0)
    first = now - timedelta(days=DAYS)
    consent_field = [{"purpose": "email_marketing", "text": "Email me news.", "required": False}]
    fields = [{"key": k, "label": k.title(), "type": t, "required": k == "name"} for k, t in
              (("name", "text"), ("email", "email"), ("phone", "phone"))]  # fmt: skip
    forms = [
        Form.objects.create(workspace_id=ws, slug=slug, name=slug, fields=fields, consents=consent_field)
        for slug in FORMS
    ]
    pages = [
        LandingPage.objects.create(workspace_id=ws, slug=f"{form.slug}-page", form=form, headline=form.name)
        for form in forms
    ]
    channels = [
        Channel.objects.create(workspace_id=ws, platform=platform, handle=f"bench_{platform}")
        for platform in PLATFORMS
    ]
    Channel.objects.filter(pk__in=[c.pk for c in channels]).update(created_at=first)
    FollowerSnapshot.objects.bulk_create(
        [
            FollowerSnapshot(channel=channel, date=(first + timedelta(days=d)).date(), followers=1000 * (i + 1) + 40 * d)
            for i, channel in enumerate(channels)
            for d in range(DAYS + 1)
        ],
        batch_size=2000,
    )
    links = [
        TrackedLink.objects.create(
            workspace_id=ws, code=f"bench{i:02d}", channel=channels[i % 6], page=pages[i % 3],
            utm_source=PLATFORMS[i % 6], utm_medium="social", utm_campaign=CAMPAIGNS[i % len(CAMPAIGNS)],
        )  # fmt: skip
        for i in range(30)
    ]

    # Leads, oldest first; a third made by form posts (their creating post is written below).
    form_leads: list[tuple[int, str, str, str, str]] = []  # (index, created_at, form slug, utm source, campaign)
    def lead_rows():
        for i in range(leads):
            at = _at(first + timedelta(seconds=DAYS * 86400 * i // leads))
            by_form = i % 3 == 0
            source = "form" if by_form else rnd.choice(("import", "import", "api", "manual"))
            ref = FORMS[i % 9 // 3] if by_form else ("list.csv" if source == "import" else "")
            utm_source = rnd.choice(UTM_SOURCES) if by_form or rnd.random() < 0.3 else ""
            campaign = rnd.choice(CAMPAIGNS) if utm_source else ""
            if by_form:
                form_leads.append((i, at, ref, utm_source, campaign))
            email = f"person{i}@example{i % 97}.com"
            phone = f"+1415{i:07d}" if i % 4 else None
            yield (
                ws, f"Person {i}", f"person {i}", "Person", str(i), str(i), email, email,
                phone or "", phone, "", "Acme", "", "US", "{}", "{}", "{}", source, ref, utm_source,
                "social" if utm_source else "", campaign, "", "", "", "{}", "new", "", i % 100,
                None, at, at,
            )  # fmt: skip

    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM leads_lead")
        base = cur.fetchone()[0] + 1
    _insert("leads_lead", LEAD_COLUMNS, lead_rows())

    # Consents: 60 % email marketing (a tenth of those still pending), 20 % calls.
    def consent_rows():
        for i in range(leads):
            at = _at(first + timedelta(seconds=DAYS * 86400 * i // leads + 60))
            if rnd.random() < 0.6:
                status = "pending" if rnd.random() < 0.1 else "granted"
                yield (base + i, "email_marketing", status, at, "form", "Email me news.", None, "")
            if i % 4 and rnd.random() < 0.2:
                yield (base + i, "calls", "granted", at, "form", "Call me.", None, "")

    _insert("leads_consent", ("lead_id", "purpose", "status", "at", "method", "text", "ip", "source_ref"), consent_rows())
    _insert(
        "leads_suppression",
        ("workspace_id", "kind", "value_hash", "reason", "created_at"),
        (
            (ws, "email", contact_hash("email", f"person{i}@example{i % 97}.com"), "unsubscribed", _at(now))
            for i in range(0, leads, 150)
        ),
    )

    # Journal: one "created" post per form lead, the rest merged, spam, failed or rejected.
    form_ids = {f.slug: f.pk for f in forms}
    codes_by_form = {f.slug: [link.code for link in links if link.page_id == pages[n].pk] for n, f in enumerate(forms)}
    busy_lead = base + 3  # a form lead who posts again and again (the lead page with many posts)

    def journal_rows():
        created = iter(form_leads)
        for j in range(submissions):
            when = first + timedelta(seconds=DAYS * 86400 * j // submissions)
            slug, lead, outcome, status = FORMS[j % 3], None, "", "processed"
            utm_source, campaign = rnd.choice(UTM_SOURCES), rnd.choice(CAMPAIGNS)
            roll = rnd.random()
            if j % 4 == 0 and (made := next(created, None)) is not None:
                i, at, slug, utm_source, campaign = made
                lead, outcome, when = base + i, "created", datetime.fromisoformat(at)
            elif roll < 0.4:
                status, utm_source = "spam", ""
            elif roll < 0.45:
                status = "failed"
            elif roll < 0.5:
                status = "rejected"
            else:
                lead, outcome = (busy_lead if j % 500 == 1 else base + rnd.randrange(leads)), "merged"
            code = rnd.choice(codes_by_form[slug]) if rnd.random() < 0.6 else ""
            utm = json.dumps({"utm_source": utm_source, "utm_campaign": campaign} if utm_source else {})
            yield (
                ws, form_ids[slug], _at(when), '{"name": "x", "email": "x@example.com"}', "203.0.113.9",
                "Mozilla/5.0", "", f"https://example.com/p/{slug}", utm, code, status,
                "honeypot" if status == "spam" else "", "boom" if status == "failed" else "",
                outcome, lead, 1, "{}",
            )  # fmt: skip

    _insert("capture_submission", SUBMISSION_COLUMNS, journal_rows())

    link_ids = [link.pk for link in links]
    _insert(
        "capture_linkclick",
        ("link_id", "at", "referrer"),
        (
            (rnd.choice(link_ids), _at(first + timedelta(seconds=DAYS * 86400 * k // clicks)), "")
            for k in range(clicks)
        ),
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    _emit({"figure": "fill", "leads": leads, "clicks": clicks, "submissions": submissions,
           "s": round(time.perf_counter() - started, 1)})  # fmt: skip
    return membership, _ids(ws)


def _ids(ws: int) -> dict:
    """The objects the measured pages are about: a form, its oldest row of a page, a channel,
    the lead with the most posts."""
    from django.db.models import Count

    from leadbase.capture.models import Channel, Form, Submission

    form = Form.objects.filter(workspace_id=ws).order_by("id").first()
    older = Submission.objects.filter(form=form).order_by("id").values_list("id", flat=True)[
        Submission.objects.filter(form=form).count() // 2
    ]
    busy = (
        Submission.objects.filter(workspace_id=ws, lead__isnull=False)
        .values("lead_id").annotate(n=Count("id")).order_by("-n").first()["lead_id"]
    )  # fmt: skip
    channel = Channel.objects.filter(workspace_id=ws).order_by("id").first()
    return {"form": form.pk, "older": older, "channel": channel.pk, "lead": busy}


def _measure(membership, ids: dict, runs: int) -> tuple[list[tuple[str, float, float, int]], float]:
    """Each page's (label, median ms, worst ms, queries), and the speed gauge taken before."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(membership.user)
    form, channel = ids["form"], ids["channel"]
    pages = {
        **{f"Sources, period {p}": f"/reports/sources?period={p}" for p in ("7", "30", "90", "all")},
        "Sources CSV, all time": "/reports/sources.csv?period=all",
        **{f"Owned vs rented, {w} weeks": f"/reports/owned-vs-rented?weeks={w}" for w in ("12", "26", "52", "all")},
        "Owned vs rented CSV, all": "/reports/owned-vs-rented.csv?weeks=all",
        "Form journal, first page": f"/capture/forms/{form}/submissions",
        "Form journal, status failed": f"/capture/forms/{form}/submissions?status=failed",
        "Form journal, older page": f"/capture/forms/{form}/submissions?before={ids['older']}",
        "Channel list": "/capture/channels/",
        "Channel page": f"/capture/channels/{channel}/",
        "Tracked links": "/capture/channels/links/",
        "Lead with many posts": f"/leads/{ids['lead']}/",
    }  # fmt: skip
    gauge = speed_gauge_ms()
    results = []
    for label, url in pages.items():
        client.get(url)  # warm the page cache like a server that has been up
        times = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        median, worst = statistics.median(times), max(times)
        results.append((label, median, worst, len(queries)))
        _emit({
            "figure": label, "url": url, "median_ms": round(median, 1), "worst_ms": round(worst, 1),
            "queries": len(queries), "target_ms": 1000, "speed_gauge_ms": gauge, **machine(),
        })  # fmt: skip
    return results, gauge


def _emit(record: dict) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()

"""Leads list page and searches at a million leads: server time per request (DESIGN.md §7).

Fills a throwaway SQLite database (or DATABASE_URL) with N generated leads through one bulk
INSERT path (fast; the import itself is measured by its own benchmark), then requests the pages
through Django's test client, which runs the whole server stack (middleware, views, queries,
templates) without a network hop. Prints one JSON line per figure (median and p95 in ms).

    .venv/bin/python benchmarks/bench_leads_list.py [--leads 1000000] [--runs 20] [--data-dir DIR]

Target: every list page and search ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--data-dir", help="reuse this data dir (kept); default: a new temporary one"
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    os.environ["LEADBASE_DATA_DIR"] = args.data_dir or tempfile.mkdtemp(
        prefix="leadbase-bench-list-"
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadbase.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    membership = _fill(args.leads)
    _measure(membership, args.runs, args.leads)


def _fill(count: int):
    from django.db import connection, transaction
    from django.utils import timezone

    from leadbase.accounts.actions import do_create_user
    from leadbase.accounts.models import Membership, Role, User
    from leadbase.leads.sample import COMPANIES, COUNTRIES, TITLES
    from leadbase.lib.cleaning import name_key

    if not User.objects.filter(email="owner@bench.test").exists():
        do_create_user(
            "owner@bench.test",
            "bench password",
            workspace_slug="bench",
            role=Role.OWNER,
            name="Bench",
        )
        do_create_user(
            "sales@bench.test",
            "bench password",
            workspace_slug="bench",
            role=Role.SALES,
            name="Sam",
        )
    membership = Membership.objects.select_related("workspace", "user").get(
        user__email="owner@bench.test"
    )
    sales = User.objects.get(email="sales@bench.test")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM leads_lead WHERE workspace_id = %s", [membership.workspace_id]
        )
        have = cur.fetchone()[0]
    calling = {
        "US": "1",
        "DE": "49",
        "FR": "33",
        "GB": "44",
        "ES": "34",
        "BR": "55",
        "IN": "91",
        "JP": "81",
    }
    stages = (
        ["new"] * 70
        + ["nurturing"] * 15
        + ["sales_ready"] * 5
        + ["accepted", "won", "lost", "disqualified"] * 2
    )
    sources = ["import"] * 80 + ["form"] * 15 + ["api"] * 4 + ["event"]
    columns = (
        "workspace_id",
        "name",
        "name_key",
        "given_name",
        "family_name",
        "family_key",
        "email",
        "email_key",
        "phone",
        "phone_e164",
        "phone_ext",
        "company",
        "job_title",
        "country",
        "custom",
        "problems",
        "alternates",
        "source",
        "source_ref",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "referrer",
        "last_touch",
        "stage",
        "disqualified_reason",
        "score",
        "owner_id",
        "created_at",
        "updated_at",
    )
    sql = (
        f"INSERT INTO leads_lead ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    )
    rnd = random.Random(have)
    now = timezone.now()
    started = time.perf_counter()
    rows = []
    for i in range(have, count):
        country = rnd.choice(list(COUNTRIES))
        _, givens, families = COUNTRIES[country]
        given, family = rnd.choice(givens), rnd.choice(families)
        name = f"{given} {family}"
        email = f"{name_key(given)}.{name_key(family)}{i}@example{i % 97}.com".replace(" ", "")
        phone = f"+{calling[country]}{rnd.randrange(200_000_000, 999_999_999)}"
        at = connection.ops.adapt_datetimefield_value(now - timedelta(minutes=count - i))
        rows.append(
            (
                membership.workspace_id,
                name,
                name_key(name),
                given,
                family,
                name_key(family),
                email,
                email.lower(),
                phone,
                phone,
                "",
                rnd.choice(COMPANIES),
                rnd.choice(TITLES),
                country,
                "{}",
                "{}",
                "{}",
                rnd.choice(sources),
                "bench.csv",
                "",
                "",
                "",
                "",
                "",
                "",
                "{}",
                rnd.choice(stages),
                "",
                rnd.randrange(100),
                sales.pk if rnd.random() < 0.02 else None,
                at,
                at,
            )
        )
        if len(rows) == 20_000 or i == count - 1:
            with transaction.atomic(), connection.cursor() as cur:
                cur.executemany(sql, rows)
            rows = []
    if count > have:
        _emit(
            {"figure": "fill", "leads": count - have, "s": round(time.perf_counter() - started, 1)}
        )
    return membership


def _measure(membership, runs: int, count: int) -> None:
    from django.test import Client

    from leadbase.leads.queries import encode_cursor

    client = Client()
    client.force_login(membership.user)
    pages = {
        "list newest": "/leads/",
        "list page deep in the middle": f"/leads/?after={encode_cursor([count // 2])}",
        "list by name": "/leads/?sort=name",
        "list by score": "/leads/?sort=score",
        "list filtered by stage (rare)": "/leads/?stage=won",
        "list filtered by source": "/leads/?source=event",
        "search name prefix (1 letter)": "/leads/?q=a",
        "search name, accents": "/leads/?q=m%C3%BCl",
        "search family name": "/leads/?q=smith",
        "search no match": "/leads/?q=zzzz",
        "search email prefix": "/leads/?q=james.smith1",
        "search phone +country": "/leads/?q=%2B49+30",
        "search phone national": "/leads/?q=415+555",
        "search + stage filter": "/leads/?q=smith&stage=won",
        "htmx table partial": "/leads/?q=jo",
        "home page (stage counts)": "/",
    }
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }
    results = []
    for label, url in pages.items():
        headers = {"HTTP_HX_REQUEST": "true"} if label.startswith("htmx") else {}
        client.get(url, **headers)  # warm the page cache like a server that has been up
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        times.sort()
        results.append((label, statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]))
        _emit(
            {
                "figure": label,
                "url": url,
                "leads": count,
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
                "target_ms": 100,
                **machine,
            }
        )


    if not NO_DOC:
        from benchmarks.common import update_doc

        update_doc(
            f"Leads list and search, {count:,} leads, SQLite",
            f"python benchmarks/bench_leads_list.py --leads {count} --runs {runs}",
            [(f"{label}", f"median {median:.1f} ms, p95 {p95:.1f} ms", "≤ 100 ms") for label, median, p95 in results],
        )


NO_DOC = "--no-doc" in sys.argv


def _emit(record: dict) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()

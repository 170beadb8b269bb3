"""Possible duplicates: similar names in one company or domain are suggested, never merged."""

from __future__ import annotations

import pytest
from django.db.models import F

from leadbase.leads.duplicates import WINDOW, scan_range
from leadbase.leads.models import Lead, PossibleDuplicate
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def scan_all(workspace) -> int:
    ids = Lead.objects.filter(workspace=workspace).values_list("id", flat=True)
    return scan_range(workspace.pk, min(ids), max(ids))


def pairs() -> set[frozenset[str]]:
    return {
        frozenset(Lead.objects.filter(pk__in=(p.lead_a_id, p.lead_b_id)).values_list("name", flat=True))
        for p in PossibleDuplicate.objects.all()
    }


def test_similar_names_at_one_company_are_suggested_and_others_are_not(personas):
    ws = personas.workspace
    make_lead(ws, name="John Smith", email="john@smith-tools.com", company="Smith Tools")
    make_lead(ws, name="Jon Smith", email="jon.smith@gmail.com", company="Smith Tools")
    make_lead(ws, name="Mary Smith", email="mary@smith-tools.com", company="Smith Tools")
    make_lead(ws, name="John Smith", email="john.smith@gmail.com", company="Other Co")
    make_lead(ws, name="Jonathan Smith", email="js@yahoo.com")
    scan_all(ws)
    assert pairs() == {frozenset({"John Smith", "Jon Smith"})}
    assert PossibleDuplicate.objects.get().reason == "similar_name_company"
    assert Lead.objects.count() == 5  # suggested, never merged


def test_a_shared_company_domain_is_a_block_but_a_free_mail_domain_is_not(personas):
    ws = personas.workspace
    make_lead(ws, name="Anna Berg", email="anna@berg-labs.se")
    make_lead(ws, name="Ana Berg", email="ana.b@berg-labs.se")
    make_lead(ws, name="Anna Berg", email="anna.berg@gmail.com")
    make_lead(ws, name="Ana Berg", email="ana.berg@gmail.com")
    scan_all(ws)
    assert PossibleDuplicate.objects.count() == 1
    assert PossibleDuplicate.objects.get().reason == "similar_name_domain"


def test_a_suggestion_is_stored_open_with_the_time_it_was_made(personas):
    from datetime import timedelta

    from django.utils import timezone

    ws = personas.workspace
    make_lead(ws, name="John Smith", email="john@smith-tools.com")
    make_lead(ws, name="Jon Smith", email="jon@smith-tools.com")
    before = timezone.now()
    scan_all(ws)
    pair = PossibleDuplicate.objects.get()
    assert (pair.workspace_id, pair.status, pair.score) == (ws.pk, "open", 0)
    assert pair.lead_a_id < pair.lead_b_id
    assert before - timedelta(seconds=1) <= pair.created_at <= timezone.now()
    assert PossibleDuplicate.objects.filter(created_at__gte=before - timedelta(seconds=1)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_suggestions_are_written_a_few_hundred_per_transaction(monkeypatch):
    """On SQLite a transaction holds the write lock the form posts queue for: a scan's many
    pairs are written in short transactions, never one commit per pair nor all in one."""
    from django.db import connection, transaction

    from leadbase.accounts.models import Workspace
    from leadbase.leads import duplicates

    monkeypatch.setattr(duplicates, "PAIRS_PER_WRITE", 2)
    ws = Workspace.objects.create(name="Chunks", slug="chunks")
    leads = [make_lead(ws, name=f"Lead {n}", email=f"lead{n}@example.org") for n in range(6)]
    commits: list[int] = []  # pairs stored, as each transaction with an insert commits

    def spy(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT"):
            assert connection.in_atomic_block  # not in autocommit: a pair per commit
            transaction.on_commit(lambda: commits.append(PossibleDuplicate.objects.count()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        duplicates.suggest_pairs(ws.pk, [(leads[n].pk, leads[n + 1].pk, "similar_name_domain") for n in range(5)])
    assert PossibleDuplicate.objects.count() == 5
    assert commits == [2, 4, 5]  # three transactions: the pairs stored when each committed


def test_a_dismissed_pair_is_not_suggested_again(personas):
    ws = personas.workspace
    make_lead(ws, name="John Smith", email="john@smith-tools.com")
    make_lead(ws, name="Jon Smith", email="jon@smith-tools.com")
    scan_all(ws)
    PossibleDuplicate.objects.update(status="dismissed")
    scan_all(ws)
    assert list(PossibleDuplicate.objects.values_list("status", flat=True)) == ["dismissed"]


@pytest.mark.parametrize("per_query", [1, 2, 100])
def test_families_read_together_are_still_compared_one_family_at_a_time(personas, monkeypatch, per_query):
    monkeypatch.setattr("leadbase.leads.duplicates.FAMILIES_PER_QUERY", per_query)
    ws = personas.workspace
    for family in ("Berg", "Cruz", "Dahl", "Eng", "Falk"):
        make_lead(ws, name=f"John {family}", email=f"john@{family.lower()}-tools.com", company="Tools")
        make_lead(ws, name=f"Jon {family}", email=f"jon.{family.lower()}@gmail.com", company="Tools")
        make_lead(ws, name=f"Mary {family}", email=f"mary@{family.lower()}-tools.com")
    # Same company and similar names, but not one family: never a pair
    make_lead(ws, name="John Bergman", email="jb@gmail.com", company="Tools")

    assert scan_all(ws) == 5
    assert pairs() == {frozenset({f"John {f}", f"Jon {f}"}) for f in ("Berg", "Cruz", "Dahl", "Eng", "Falk")}


def test_a_large_block_is_compared_with_neighbours_only(personas):
    ws = personas.workspace
    for i in range(30):
        make_lead(ws, name="Ann Lee", email=f"ann{i}@lee-corp.com")
    suggested = scan_all(ws)
    assert 29 <= suggested <= 30 * WINDOW  # a connected chain, not all 435 pairs


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_creates_queues_one_scan_that_covers_them_all(personas, settings):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from leadbase.leads.actions import do_create_lead
    from leadbase.leads.models import PendingScan

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}
    settings.DUPLICATE_SCAN_DELAY = 0
    ws = personas.workspace
    people = [("Ada Lovelace", "ada@analytical.example"), ("A. Lovelace", "a.lovelace@analytical.example")]
    made = [
        do_create_lead(ws, {"name": name, "email": email, "company": "Analytical"}, actor=None).lead
        for name, email in people
    ]

    scans = DBTaskResult.objects.filter(task_path__endswith="scan_possible_duplicates")
    assert scans.count() == 1  # the second create widened the pending range instead
    pending = PendingScan.objects.get(workspace=ws)
    assert (pending.first_id, pending.last_id) == (made[0].pk, made[1].pk)

    call_command("worker", batch=True, verbosity=0)

    assert not PendingScan.objects.exists()
    pair = PossibleDuplicate.objects.get()
    assert {pair.lead_a_id, pair.lead_b_id} == {made[0].pk, made[1].pk}
    # The range was taken: the next lead queues a scan of its own.
    later = do_create_lead(ws, {"name": "Grace Hopper", "email": "grace@navy.example"}, actor=None).lead
    assert scans.count() == 2
    assert PendingScan.objects.get(workspace=ws).first_id == later.pk


@pytest.mark.django_db(transaction=True)
def test_a_pending_scan_whose_task_was_lost_gets_a_new_task(personas, settings):
    from datetime import timedelta

    from django_tasks_db.models import DBTaskResult

    from leadbase.leads.actions import do_create_lead
    from leadbase.leads.models import PendingScan

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}
    ws = personas.workspace
    do_create_lead(ws, {"name": "Ada Lovelace", "email": "ada@analytical.example"}, actor=None)
    DBTaskResult.objects.all().delete()  # as if the queue (say Redis) lost it
    PendingScan.objects.update(queued_at=F("queued_at") - timedelta(hours=1))

    do_create_lead(ws, {"name": "Grace Hopper", "email": "grace@navy.example"}, actor=None)

    assert DBTaskResult.objects.filter(task_path__endswith="scan_possible_duplicates").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_scan_waits_the_delay_so_a_stream_of_leads_shares_it(personas, settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from leadbase.leads.actions import do_create_lead
    from leadbase.leads.models import PendingScan

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}
    settings.DUPLICATE_SCAN_DELAY = 30
    ws = personas.workspace
    before = timezone.now()
    made = [
        do_create_lead(ws, {"name": name, "email": email, "company": "Analytical"}, actor=None).lead
        for name, email in [("Ada Lovelace", "ada@analytical.example"), ("A. Lovelace", "al@analytical.example")]
    ]
    scan = DBTaskResult.objects.get(task_path__endswith="scan_possible_duplicates")
    assert before + timedelta(seconds=30) <= scan.run_after <= timezone.now() + timedelta(seconds=30)

    call_command("worker", batch=True, verbosity=0)  # not due yet: the leads wait for it
    assert PendingScan.objects.filter(workspace=ws).exists() and not PossibleDuplicate.objects.exists()

    DBTaskResult.objects.update(run_after=timezone.now())  # its time has come
    call_command("worker", batch=True, verbosity=0)
    pair = PossibleDuplicate.objects.get()
    assert {pair.lead_a_id, pair.lead_b_id} == {lead.pk for lead in made}


SCAN_WHILE_OTHERS_WRITE = """
import sqlite3
from django.conf import settings
from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Workspace
from leadbase.leads import duplicates
from leadbase.leads.actions import do_create_leads
from leadbase.leads.models import Lead, PossibleDuplicate
do_create_user("w@example.com", "password-123", workspace_slug="w")
ws = Workspace.objects.get(slug="w")
rows = [(n, {"name": f"Ada{'x' * (n % 7)} Lovelace{n % 3}", "email": f"a{n}@analytical.example"}, None)
        for n in range(2400)]
do_create_leads(ws, rows)
ids = list(Lead.objects.values_list("id", flat=True))
original = duplicates._suggest
def suggest_after_another_commit(*args):
    # another process's form post commits while the scan is between reading and writing
    other = sqlite3.connect(settings.DATABASES["default"]["NAME"])
    other.execute("UPDATE leads_lead SET score = score + 1 WHERE id = ?", [ids[0]])
    other.commit()
    other.close()
    return original(*args)
duplicates._suggest = suggest_after_another_commit
print(duplicates.scan_range(ws.pk, min(ids), max(ids)), PossibleDuplicate.objects.count())
"""


def test_a_scan_writes_its_pairs_while_other_connections_commit(tmp_path):
    """A scan never writes from a connection still reading an older snapshot (SQLite refuses
    that at once as "database is locked", and the worker's next transaction failed with it)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(LEADBASE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="leadbase.settings")
    for args in (["migrate", "-v", "0"], ["shell", "--no-imports", "-c", SCAN_WHILE_OTHERS_WRITE]):
        done = subprocess.run([sys.executable, "-m", "leadbase", *args], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
    suggested, stored = map(int, done.stdout.split()[-2:])
    assert suggested == stored > 0


def test_a_scan_reads_families_in_queries_of_bounded_size(personas, monkeypatch):
    from leadbase.leads import duplicates

    ws = personas.workspace
    for family, size in (("Berg", 2), ("Cole", 2), ("Dunn", 5), ("Eads", 1)):
        for n in range(size):
            make_lead(ws, name=f"Ann{'a' * n} {family}", email=f"{family}{n}@x.example")
    monkeypatch.setattr(duplicates, "ROWS_PER_QUERY", 4)
    keys = sorted(Lead.objects.values_list("family_key", flat=True).distinct())
    chunks = list(duplicates._family_chunks(Lead.objects.filter(workspace=ws), keys))
    assert chunks == [keys[:2], keys[2:3], keys[3:]]  # 2+2, then the family of 5 alone, then 1

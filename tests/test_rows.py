"""leadbase.rows.insert writes what bulk_create writes, with one executemany."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from leadbase.capture.actions import do_create_form
from leadbase.capture.demo import CONTACT
from leadbase.capture.models import Form, Submission
from leadbase.leads.models import Consent, Touch
from leadbase.rows import allocate_ids, insert, json_dumps
from tests.factories import make_lead


def _journal(form, n, **extra):
    return Submission(
        workspace_id=form.workspace_id, form=form, received_at=timezone.now(), ip="2001:db8::7",
        payload={"name": f"Ada {n}", "nested": {"list": [1, "ü"]}}, utm={"utm_source": "x"}, **extra,
    )


def _stored(model, pks, exclude=("id",)):
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
    return list(model.objects.filter(pk__in=pks).order_by("pk").values_list(*fields))


@pytest.mark.django_db
def test_rows_read_back_as_bulk_create_writes_them(personas):
    form = do_create_form(personas.workspace, {**CONTACT, "slug": "rows"}, actor=None)
    ours = [_journal(form, n, status="spam", spam_reason="honeypot") for n in range(3)]
    theirs = [_journal(form, n, status="spam", spam_reason="honeypot") for n in range(3)]
    for row, twin in zip(ours, theirs):
        twin.received_at = row.received_at
    with transaction.atomic():
        insert(ours, ids=True)
        Submission.objects.bulk_create(theirs)

    assert [row.pk for row in ours] == list(range(ours[0].pk, ours[0].pk + 3))  # numbered, in order
    assert all(not row._state.adding for row in ours)
    assert _stored(Submission, [r.pk for r in ours]) == _stored(Submission, [r.pk for r in theirs])
    assert Submission.objects.get(pk=ours[1].pk).payload == {"name": "Ada 1", "nested": {"list": [1, "ü"]}}


@pytest.mark.django_db
def test_without_ids_the_database_numbers_the_rows_and_pre_save_fills_auto_fields(personas):
    lead = make_lead(personas.workspace, name="Ada Lovelace", email="ada@example.org")
    at = timezone.now()
    consents = [Consent(lead=lead, purpose=p, status="pending", at=at, method="form") for p in ("email_marketing", "calls")]
    forms = [Form(workspace=personas.workspace, name=f"F{n}", slug=f"rows-{n}", fields=[], consents=[]) for n in range(2)]
    with transaction.atomic():
        insert(consents)
        insert(forms)

    assert [c.pk for c in consents] == [None, None]
    assert sorted(lead.consents.values_list("purpose", "status")) == [("calls", "pending"), ("email_marketing", "pending")]
    stored = Form.objects.filter(slug__startswith="rows-").order_by("slug")
    assert [f.created_at is not None and f.updated_at is not None for f in stored] == [True, True]


@pytest.mark.django_db
def test_objects_of_two_models_are_refused(personas):
    lead = make_lead(personas.workspace, name="Ada Lovelace", email="ada@example.org")
    mixed = [Touch(workspace=personas.workspace, lead=lead, kind="note", at=timezone.now()),
             Consent(lead=lead, purpose="calls", status="granted", at=timezone.now(), method="form")]
    with pytest.raises(TypeError), transaction.atomic():
        insert(mixed)
    assert Touch.objects.filter(kind="note").count() == 0


@pytest.mark.django_db
def test_ids_are_allocated_only_for_an_auto_incremented_id():
    from django_tasks_db.models import DBTaskResult  # a UUID primary key

    with pytest.raises(TypeError, match="auto-incremented"), transaction.atomic():
        insert([DBTaskResult(task_path="x", queue_name="default", backend_name="default")], ids=True)


@pytest.mark.django_db
def test_allocated_ids_are_never_used_twice(personas):
    with transaction.atomic():
        first = allocate_ids(Submission, 2)
        form = do_create_form(personas.workspace, {**CONTACT, "slug": "ids"}, actor=None)
        rows = [_journal(form, n) for n in range(2)]
        for row, pk in zip(rows, first):
            row.pk = pk
        insert(rows)
        assert set(allocate_ids(Submission, 2)).isdisjoint(first)


@pytest.mark.django_db
def test_by_ids_reads_the_instances_in_bulk_reads(personas, monkeypatch):
    from leadbase import rows
    from leadbase.leads.models import Lead

    leads = [make_lead(personas.workspace, phone="+49 151 23456789", company="Ünïcode GmbH",
                       custom={"size": 12, "tags": ["a", "ü"]})]
    leads += [make_lead(personas.workspace, owner=personas.sales) for _ in range(4)]
    Lead.objects.filter(pk=leads[1].pk).update(score=37, last_touch={"utm_source": "x", "at": "2026-01-01"})
    monkeypatch.setattr(rows, "IN_CHUNK", 2)  # several queries
    ids = [lead.pk for lead in leads] + [10**9]  # one that is not there
    ours, theirs = rows.by_ids(Lead, ids), Lead.objects.in_bulk(ids)
    assert ours.keys() == theirs.keys() == {lead.pk for lead in leads}
    fields = [f.attname for f in Lead._meta.concrete_fields]
    for pk, lead in ours.items():
        twin = theirs[pk]
        assert [(getattr(lead, f), type(getattr(lead, f))) for f in fields] == [
            (getattr(twin, f), type(getattr(twin, f))) for f in fields]
        assert lead._state.db == twin._state.db and not lead._state.adding
    assert rows.by_ids(Lead, []) == {}


def test_by_ids_with_fields_reads_those_and_loads_the_rest_when_used(personas, django_assert_num_queries):
    from leadbase import rows
    from leadbase.leads.models import Lead

    lead = make_lead(personas.workspace, owner=personas.sales, custom={"size": 12})
    with django_assert_num_queries(1):
        (partial,) = rows.by_ids(Lead, [lead.pk], fields=("id", "workspace_id", "owner_id", "email_key")).values()
        assert (partial.pk, partial.workspace_id, partial.owner_id, partial.email_key) == (
            lead.pk, lead.workspace_id, personas.sales.pk, lead.email_key)
    assert partial.get_deferred_fields() == {f.attname for f in Lead._meta.concrete_fields} - {
        "id", "workspace_id", "owner_id", "email_key"}
    with django_assert_num_queries(1):  # a field not read comes from the database when used
        assert partial.custom == {"size": 12}


@pytest.mark.django_db(transaction=True)
def test_select_in_reads_what_values_list_reads(personas, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leadbase import rows
    from leadbase.capture.models import RateBucket

    now = timezone.now()
    for n in range(5):
        RateBucket.objects.create(key=f"ip:192.0.2.{n}", window_start=now - timezone.timedelta(seconds=n), count=n)
    keys = [f"ip:192.0.2.{n}" for n in (4, 0, 2)] + ["ip:198.51.100.1"]  # and one that is not there
    monkeypatch.setattr(rows, "IN_CHUNK", 2)
    fields = ("key", "window_start", "count")
    with transaction.atomic(), CaptureQueriesContext(connection) as ran:
        ours = rows.select_in(RateBucket, fields, "key", keys, for_update=True)
    assert len(ran) == 2  # in chunks of two keys
    assert all(q["sql"].endswith("FOR UPDATE") == connection.features.has_select_for_update for q in ran)
    theirs = RateBucket.objects.filter(key__in=keys).values_list(*fields)
    assert sorted(map(tuple, ours)) == sorted(theirs)
    assert all(isinstance(row[1], type(now)) and row[1].tzinfo is not None for row in ours)
    assert rows.select_in(RateBucket, fields, "key", []) == []


@pytest.mark.django_db
def test_the_values_insert_binds_as_they_are_are_those_the_fields_hand_back_unchanged():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from leadbase import rows
    from leadbase.capture.models import SubmissionStatus

    samples = {str: ["", "Ada", SubmissionStatus.PROCESSED], int: [0, 7, 2**40], bool: [True, False]}
    # the values prepared by the plan's own functions, as the field prepares them
    zone = ZoneInfo("Europe/Berlin")
    converted = {
        dict: [{}, {"name": "Ada", "nested": {"list": [1, "ü", None, 2.5, True]}}],
        list: [[], ["ü", {"a": 1}]],
        datetime: [datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=zone), datetime(2026, 1, 1, tzinfo=timezone.utc)],
    }
    checked = set()
    for model in (Submission, Consent, Touch, DBTaskResult, Form):
        for with_pk in (True, False):
            _, plan = rows._insert_plan(model, with_pk, connection.vendor)
            for field, _, _, fast, convert, kinds in plan:
                assert field.get_db_prep_save(None, connection) is None
                for value in samples.get(fast, []):
                    prepared = field.get_db_prep_save(value, connection)
                    assert prepared == value and type(prepared) is type(value), (model, field.name, value)
                    checked.add(fast)
                for kind in kinds if convert is not None else ():
                    for value in converted[kind]:
                        assert convert(connection.ops, value) == field.get_db_prep_save(value, connection), (
                            model, field.name, value)
                        checked.add(kind)
    # SQLite takes integers as they are; psycopg's adapters wrap them (Int2, Int4, Int8)
    assert checked == ({str, int, bool, dict, list, datetime} if connection.vendor == "sqlite" else {str, bool, datetime})


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_the_json_encoder_writes_exactly_what_json_dumps_writes(value):
    assert json_dumps(value) == json.dumps(value)


def test_the_json_encoder_refuses_what_json_cannot_encode():
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_dumps({"when": object()})

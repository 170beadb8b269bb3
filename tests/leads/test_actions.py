"""Lead actions: create from any source, merge, dismiss, stage, owner, erase, export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import timezone

from leadbase.leads.actions import (
    do_assign_owner,
    do_change_stage,
    do_create_lead,
    do_dismiss_duplicate,
    do_erase_lead,
    do_merge_leads,
    do_update_lead,
)
from leadbase.leads.errors import LeadError, LeadRejected, TransitionError
from leadbase.leads.export import stream_leads
from leadbase.leads.models import Consent, Lead, PossibleDuplicate, Suppression, Touch
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def test_creating_a_lead_twice_with_the_same_email_gives_one_person(personas):
    first = do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "ADA@example.org"}, actor=personas.owner)
    second = do_create_lead(
        personas.workspace, {"name": "Ada Lovelace", "email": "ada@example.org", "phone": "+44 20 7946 0018"},
        actor=personas.owner,
    )
    assert (first.outcome, second.outcome) == ("created", "merged")
    assert first.lead.pk == second.lead.pk
    assert Lead.objects.get().phone_e164 == "+442079460018"  # the blank was filled


def test_a_lead_without_any_valid_contact_is_rejected_with_the_field(personas):
    with pytest.raises(LeadRejected) as caught:
        do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "nope"}, actor=None)
    assert (caught.value.code, caught.value.field) == ("invalid_email", "email")
    assert not Lead.objects.exists()


def test_markup_in_a_name_is_refused_rather_than_stored(personas):
    with pytest.raises(LeadRejected) as caught:
        do_create_lead(personas.workspace, {"name": "<script>alert(1)</script>", "email": "x@example.org"}, actor=None)
    assert caught.value.code == "invalid_name"


def test_a_conflicting_value_is_kept_aside_and_told_in_the_timeline(personas):
    lead = make_lead(personas.workspace, email="kim@example.org", company="Initech")
    do_create_lead(personas.workspace, {"name": lead.name, "email": "kim@example.org", "company": "Globex"}, actor=None)
    lead.refresh_from_db()
    assert lead.company == "Initech" and lead.alternates["company"] == ["Globex"]
    assert Touch.objects.filter(lead=lead, kind="merged").exists()


def test_merging_moves_the_timeline_and_the_most_restrictive_consent_wins(personas):
    keep = make_lead(personas.workspace, email="a@example.org", company="")
    other = make_lead(personas.workspace, email="b@example.org", company="Globex", phone="+1 202 555 0143")
    now = timezone.now()
    Consent.objects.create(lead=keep, purpose="email_marketing", status="granted", at=now, method="form")
    Consent.objects.create(lead=other, purpose="email_marketing", status="withdrawn", at=now, method="unsubscribe")
    Consent.objects.create(lead=other, purpose="calls", status="granted", at=now, method="form")
    PossibleDuplicate.objects.create(workspace=personas.workspace, lead_a=keep, lead_b=other, reason="x")
    merged = do_merge_leads(keep, other, actor=personas.marketer)
    assert not Lead.objects.filter(pk=other.pk).exists()
    assert merged.company == "Globex" and merged.phone_e164 == "+12025550143"
    assert merged.alternates["email"] == ["b@example.org"]
    assert dict(Consent.objects.filter(lead=keep).values_list("purpose", "status")) == {
        "email_marketing": "withdrawn", "calls": "granted"}
    assert Touch.objects.filter(lead=keep, kind="created").count() == 2
    merge_touch = Touch.objects.get(lead=keep, kind="merged")
    assert merge_touch.actor == personas.marketer and merge_touch.data["merged_lead"] == other.pk
    assert not PossibleDuplicate.objects.exists()


def test_merging_a_lead_that_is_gone_is_refused(personas):
    keep, other = make_lead(personas.workspace), make_lead(personas.workspace)
    do_merge_leads(keep, other, actor=None)
    with pytest.raises(TransitionError):
        do_merge_leads(keep, other, actor=None)


def test_dismissing_a_possible_duplicate_happens_once(personas):
    a, b = make_lead(personas.workspace), make_lead(personas.workspace)
    pair = PossibleDuplicate.objects.create(workspace=personas.workspace, lead_a=a, lead_b=b, reason="x")
    do_dismiss_duplicate(pair, actor=personas.owner)
    with pytest.raises(TransitionError):
        do_dismiss_duplicate(pair, actor=personas.owner)
    assert Touch.objects.filter(kind="duplicate_dismissed").count() == 2


def test_disqualifying_needs_a_reason_and_a_stale_stage_loses(personas):
    lead = make_lead(personas.workspace)
    with pytest.raises(LeadError):
        do_change_stage(lead, "disqualified", actor=None)
    stale = Lead.objects.get(pk=lead.pk)
    do_change_stage(lead, "nurturing", actor=None)
    with pytest.raises(TransitionError):
        do_change_stage(stale, "sales_ready", actor=None)
    assert Touch.objects.filter(lead=lead, kind="stage_changed").count() == 1


def test_an_owner_must_be_a_member_of_the_workspace(personas):
    lead = make_lead(personas.workspace)
    with pytest.raises(LeadError):
        do_assign_owner(lead, personas.outsider, actor=personas.owner)
    assert do_assign_owner(lead, personas.sales, actor=personas.owner).owner == personas.sales


def test_editing_a_lead_applies_the_cleaning_rules_and_records_the_change(personas):
    lead = make_lead(personas.workspace)
    do_update_lead(lead, {"phone": "+49 30 901820"}, actor=personas.owner)
    assert Lead.objects.get(pk=lead.pk).phone_e164 == "+4930901820"
    assert Touch.objects.get(lead=lead, kind="updated").data["changes"]["phone_e164"] == [None, "+4930901820"]
    with pytest.raises(LeadRejected):
        do_update_lead(lead, {"name": "null"}, actor=personas.owner)


def test_an_erased_person_cannot_be_brought_back(personas):
    lead = make_lead(personas.workspace, email="gone@example.org")
    do_erase_lead(lead, actor=personas.owner)
    assert not Lead.objects.exists()
    assert Suppression.objects.get().reason == "erased"
    assert "gone@example.org" not in json.dumps(list(Suppression.objects.values()), default=str)
    with pytest.raises(LeadRejected) as caught:
        do_create_lead(personas.workspace, {"name": "Back Again", "email": "GONE@example.org"}, actor=None)
    assert caught.value.code == "suppressed"


def test_leads_are_per_workspace(personas):
    make_lead(personas.workspace, email="same@example.org")
    other = do_create_lead(personas.other_workspace, {"name": "Ada Lovelace", "email": "same@example.org"}, actor=None)
    assert other.outcome == "created"


def test_the_csv_export_neutralizes_formulas_but_keeps_e164_phones(personas):
    make_lead(personas.workspace, name="Eve Adams", email="eve@example.org", phone="+1 202 555 0143",
              company="=HYPERLINK(\"http://evil\")")
    rows = list(csv.reader(io.StringIO("".join(stream_leads(personas.workspace, "csv")))))
    assert rows[0][:4] == ["id", "name", "email", "phone"]
    assert rows[1][3] == "+12025550143"
    assert rows[1][rows[0].index("company")].startswith("'=")


def test_the_jsonl_export_has_one_object_per_lead(personas):
    for _ in range(3):
        make_lead(personas.workspace)
    lines = "".join(stream_leads(personas.workspace, "jsonl")).splitlines()
    assert [json.loads(line)["id"] for line in lines] == list(
        Lead.objects.order_by("id").values_list("id", flat=True))


def test_editing_a_lead_onto_another_persons_email_is_refused_rather_than_duplicating_them(personas):
    ada = make_lead(personas.workspace, name="Ada Lovelace", email="ada@example.org")
    other = make_lead(personas.workspace, name="Grace Hopper", email="grace@example.org")
    with pytest.raises(LeadRejected) as caught:
        do_update_lead(other, {"email": "ADA@example.org"}, actor=personas.owner)
    assert (caught.value.code, caught.value.field) == ("duplicate", "email")
    assert f"#{ada.pk}" in caught.value.message
    assert Lead.objects.get(pk=other.pk).email_key == "grace@example.org"


def test_editing_a_lead_onto_an_erased_contact_is_refused(personas):
    gone = make_lead(personas.workspace, email="gone@example.org")
    do_erase_lead(gone, actor=personas.owner)
    lead = make_lead(personas.workspace, email="kept@example.org")
    with pytest.raises(LeadRejected) as caught:
        do_update_lead(lead, {"email": "gone@example.org"}, actor=personas.owner)
    assert caught.value.code == "suppressed"


def test_editing_other_fields_of_a_lead_on_a_shared_mailbox_still_works(personas):
    make_lead(personas.workspace, name="John Smith", email="info@bakery.example.com")
    maria = make_lead(personas.workspace, name="Maria Gonzalez", email="info@bakery.example.com")
    assert do_update_lead(maria, {"job_title": "Baker"}, actor=personas.owner).job_title == "Baker"


def _consents(lead: Lead) -> list[tuple]:
    return list(Consent.objects.filter(lead=lead).order_by("purpose").values_list(
        "purpose", "status", "method", "text", "ip", "source_ref"))


def _touches(lead: Lead) -> list[tuple]:
    return list(Touch.objects.filter(lead=lead, kind="consent").order_by("id").values_list(
        "workspace_id", "kind", "actor_id", "actor_label", "data"))


def test_consents_of_new_leads_are_written_as_recording_each_one_writes_them(personas):
    """The form path's plain-parameter insert writes the rows the ORM path writes."""
    from leadbase.leads.actions import do_record_consent, do_record_consents_of_new_leads

    def made(name: str) -> Lead:
        return do_create_lead(personas.workspace, {"name": name, "email": f"{name.split()[0]}@example.org"}, actor=None).lead

    one_by_one, together = made("Ada Lovelace"), made("Grace Hopper")
    answers = [("email_marketing", "pending", "Email me news. “Quoted” — and 'single'.", "2001:db8:0:0:0:0:0:1"),
               ("calls", "granted", "", None)]
    for purpose, status, text, ip in answers:
        do_record_consent(one_by_one, purpose, status, method="form", text=text, ip=ip, source_ref="contact")
    do_record_consents_of_new_leads(
        [(together, purpose, status, text, ip) for purpose, status, text, ip in answers],
        method="form", source_ref="contact",
    )

    assert _consents(together) == _consents(one_by_one)
    assert _consents(together)[1][4] == "2001:db8::1"  # the short form, as the field writes it
    assert _touches(together) == _touches(one_by_one) and len(_touches(together)) == 2
    assert {c.at for c in Consent.objects.filter(lead=together)} == {t.at for t in Touch.objects.filter(
        lead=together, kind="consent")}


def test_answers_of_known_leads_recorded_together_end_as_recorded_one_by_one(personas):
    """The form path's batch of answers (``do_record_consents``): the same consents and timeline
    entries as ``do_record_consent`` answer after answer, a pending answer after a granted one
    left out, and two answers of one purpose in one batch applied in order."""
    from leadbase.leads.actions import do_record_consent, do_record_consents

    def known(name: str) -> Lead:
        lead = do_create_lead(personas.workspace, {"name": name, "email": f"{name.split()[0]}@example.org"},
                              actor=None).lead
        do_record_consent(lead, "email_marketing", "granted", method="import", source_ref="list.csv")
        do_record_consent(lead, "calls", "withdrawn", method="manual")
        return lead

    one_by_one, together, other = known("Ada Lovelace"), known("Grace Hopper"), known("Mary Somerville")
    answers = [
        ("email_marketing", "pending", "Email me news.", "192.0.2.7"),  # left out: granted already
        ("calls", "pending", "Call me.", "192.0.2.7"),
        ("events", "granted", "Invite me.", None),  # a purpose without a consent yet
        ("calls", "granted", "Call me, please.", "2001:db8:0:0:0:0:0:1"),  # the latest answer wins
    ]
    for purpose, status, text, ip in answers:
        do_record_consent(one_by_one, purpose, status, method="form", text=text, ip=ip, source_ref="contact")
    do_record_consents(
        [(together, purpose, status, text, ip) for purpose, status, text, ip in answers]
        + [(other, "calls", "granted", "Call me.", None)],
        method="form", source_ref="contact",
    )

    assert _consents(together) == _consents(one_by_one) == [
        ("calls", "granted", "form", "Call me, please.", "2001:db8::1", "contact"),
        ("email_marketing", "granted", "import", "", None, "list.csv"),
        ("events", "granted", "form", "Invite me.", None, "contact"),
    ]
    assert _touches(together) == _touches(one_by_one) and len(_touches(together)) == 2 + 3
    assert _consents(other)[0][:2] == ("calls", "granted")


def test_a_pending_answer_never_replaces_a_granted_consent_even_when_read_before_the_grant(personas, monkeypatch):
    """The upsert keeps the rule itself: a pending answer decided on a stale read (the consent
    granted by another transaction between the read and the write) leaves the grant in place."""
    from leadbase.leads import batch

    lead = make_lead(personas.workspace, name="Ada Lovelace", email="ada@example.org")
    batch.upsert_consents([(lead.workspace_id, lead.pk, "calls", "withdrawn", "Call me.", None)],
                          at=timezone.now(), method="form", source_ref="contact")
    read = batch.select_in

    def read_then_granted(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = read(*args, **kwargs)
        Consent.objects.filter(lead=lead).update(status="granted")
        return found

    monkeypatch.setattr(batch, "select_in", read_then_granted)
    batch.upsert_consents([(lead.workspace_id, lead.pk, "calls", "pending", "Call me?", "192.0.2.7")],
                          at=timezone.now(), method="form", source_ref="contact")
    consent = Consent.objects.get(lead=lead)
    assert (consent.status, consent.text) == ("granted", "Call me.")

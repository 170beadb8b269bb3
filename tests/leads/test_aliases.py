"""A contact set aside by a merge still reaches the same person: later records with it match
that lead instead of making a second record of the person."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadbase.leads.actions import do_create_lead, do_erase_lead, do_merge_leads, do_update_lead
from leadbase.leads.errors import LeadError, LeadRejected
from leadbase.leads.importer import import_file
from leadbase.leads.models import Lead, LeadAlias

pytestmark = pytest.mark.django_db

FILE = "Name,Email,Phone,Country\nAda Lovelace,ada@example.org,,\nAda Lovelace,ada@home.example,,\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text(text)
    return path


def ada_with_home_address_aside(personas) -> Lead:
    """Ada's lead, on her work address, with her home address set aside (same phone and name)."""
    phone = "+44 20 7946 0018"
    ada = do_create_lead(
        personas.workspace, {"name": "Ada Lovelace", "email": "ada@work.example", "phone": phone}, actor=None
    ).lead
    do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "ada@home.example", "phone": phone}, actor=None)
    return ada


def test_re_importing_after_a_manual_merge_creates_nothing(personas, tmp_path):
    first = import_file(personas.workspace, write(tmp_path, FILE), workers=1)
    keep, other = Lead.objects.order_by("pk")
    do_merge_leads(keep, other, actor=personas.owner)

    again = import_file(personas.workspace, write(tmp_path, FILE), workers=1)

    assert (first.created, again.created, again.merged) == (2, 0, 2)
    assert list(Lead.objects.values_list("pk", flat=True)) == [keep.pk]
    assert set(LeadAlias.objects.values_list("lead_id", "kind", "key")) == {
        (keep.pk, "email", "ada@home.example")
    }


def test_an_email_set_aside_by_a_phone_match_finds_the_person_later(personas):
    phone = "+44 20 7946 0018"
    ada = do_create_lead(
        personas.workspace, {"name": "Ada Lovelace", "email": "ada@work.example", "phone": phone}, actor=None
    ).lead
    # Same person by phone and name, with another address: kept aside on the lead.
    second = do_create_lead(
        personas.workspace, {"name": "Ada Lovelace", "email": "ada@home.example", "phone": phone}, actor=None
    )
    # Later, only the second address: still Ada, not a new lead.
    third = do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "ADA@home.example"}, actor=None)

    assert (second.outcome, third.outcome) == ("merged", "merged")
    assert second.lead.pk == third.lead.pk == ada.pk
    assert Lead.objects.count() == 1
    assert Lead.objects.get().alternates["email"] == ["ada@home.example"]


def test_a_phone_set_aside_in_a_file_matches_a_later_row_of_the_same_file(personas, tmp_path):
    text = (
        "Name,Email,Phone,Country\n"
        "Grace Hopper,grace@navy.example,+1 202 555 0143,US\n"
        "Grace Hopper,grace@navy.example,+1 202 555 0199,US\n"  # a second number, kept aside
        "Grace Hopper,,+1 202 555 0199,US\n"  # only that number: the same Grace
    )
    report = import_file(personas.workspace, write(tmp_path, text), workers=1)

    assert (report.created, report.merged) == (1, 2)
    grace = Lead.objects.get()
    assert grace.phone_e164 == "+12025550143"
    assert list(LeadAlias.objects.values_list("kind", "key")) == [("phone", "+12025550199")]


def test_an_alias_on_a_shared_role_mailbox_still_keeps_different_people_apart(personas):
    phone = "+44 20 7946 0018"
    do_create_lead(personas.workspace, {"name": "John Smith", "email": "john@bakery.example", "phone": phone}, actor=None)
    do_create_lead(personas.workspace, {"name": "John Smith", "email": "info@bakery.example", "phone": phone}, actor=None)

    maria = do_create_lead(personas.workspace, {"name": "Maria Gonzalez", "email": "info@bakery.example"}, actor=None)

    assert maria.outcome == "created"
    assert Lead.objects.count() == 2


def test_erasing_a_person_also_blocks_the_contacts_set_aside(personas):
    ada = ada_with_home_address_aside(personas)

    do_erase_lead(ada, actor=personas.owner)

    with pytest.raises(LeadRejected) as caught:
        do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "ada@home.example"}, actor=None)
    assert caught.value.code == "suppressed"
    assert not LeadAlias.objects.exists()


def test_editing_a_lead_to_another_persons_alias_is_refused(personas):
    ada = ada_with_home_address_aside(personas)
    bob = do_create_lead(personas.workspace, {"name": "Bob Stone", "email": "bob@example.org"}, actor=None).lead

    with pytest.raises(LeadError) as caught:
        do_update_lead(bob, {"email": "ada@home.example"}, actor=None)

    assert caught.value.code == "duplicate" and f"#{ada.pk}" in caught.value.message

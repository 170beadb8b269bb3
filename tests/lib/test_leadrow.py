"""Tests for leadbase.lib.leadrow: one record (import row, form post) cleaned into a candidate."""

from __future__ import annotations

import gc

import pytest

from leadbase.lib.leadrow import Candidate, clean_record
from leadbase.lib.names import name_key


@pytest.mark.parametrize(
    ("first", "last", "name", "given", "family"),
    [
        ("José", "García López", "José García López", "José", "García López"),
        ("Mary Ann", "Smith", "Mary Ann Smith", "Mary Ann", "Smith"),
        ("  Hans ", "van der Berg", "Hans van der Berg", "Hans", "van der Berg"),
        ("", "Lovelace", "Lovelace", "", "Lovelace"),
        ("Ada", "", "Ada", "Ada", ""),
        # A full name typed into First, Last repeated: kept once, then split as a full name.
        ("John Smith", "Smith", "John Smith", "John", "Smith"),
    ],
)
def test_first_and_last_name_columns_are_the_greeting_names(first, last, name, given, family):
    candidate = clean_record(
        {"first_name": first, "last_name": last, "email": "someone@example.org"}, "US"
    )
    assert isinstance(candidate, Candidate)
    assert (candidate.name, candidate.given_name, candidate.family_name) == (name, given, family)
    assert candidate.family_key == name_key(family)


def test_a_full_name_column_is_split_for_greetings():
    candidate = clean_record({"name": "Dr. Jane Q. Smith", "email": "jane@example.org"}, "US")
    assert isinstance(candidate, Candidate)
    assert (candidate.given_name, candidate.family_name) == ("Jane", "Smith")


def test_a_placeholder_in_one_name_column_does_not_refuse_a_real_name():
    candidate = clean_record(
        {"first_name": "N/A", "last_name": "Smith", "phone": "+12025550143"}, "US"
    )
    assert isinstance(candidate, Candidate)
    assert candidate.family_name == "Smith"


@pytest.mark.parametrize(
    "record",
    [
        {"name": "Ada Lovelace", "email": "ada@@example.org", "phone": "+44 20 7946 0018"},  # bad email kept aside
        {"name": "Ada Lovelace", "email": "ada@example.org", "phone": "12"},  # bad phone kept aside
        {"name": "Ada Lovelace", "email": "ada at example.org"},  # refused
        {"name": "=HYPERLINK(1)", "email": "ada@example.org"},  # refused name
    ],
)
def test_cleaning_a_bad_value_leaves_no_garbage_for_the_collector(record):
    """An import cleans millions of rows with the collector held back: a refused value must be
    freed by reference counting, not left in a cycle (an exception holding its frame)."""
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            clean_record(record, "GB")
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_every_value_of_a_record_lands_in_its_own_field():
    """The candidate is built by position: each field gets its own value, none another's."""
    record = {
        "name": "Ada Lovelace", "email": "Ada@Analytical.example", "phone": "+44 20 7946 0018 ext. 12",
        "company": "Analytical Engines", "job_title": "Analyst", "country": "GB",
        "utm_source": "src", "utm_medium": "med", "utm_campaign": "camp", "utm_term": "term",
        "utm_content": "cont", "referrer": "https://ref.example/", "custom": {"badge": "A-17"},
    }
    candidate = clean_record(record, "US")
    assert candidate._asdict() == {
        "name": "Ada Lovelace", "name_key": name_key("Ada Lovelace"), "given_name": "Ada",
        "family_name": "Lovelace", "family_key": name_key("Lovelace"),
        "email": "Ada@analytical.example", "email_key": "ada@analytical.example", "email_is_role": False,
        "phone": "+44 20 7946 0018 ext. 12", "phone_e164": "+442079460018", "phone_ext": "12",
        "company": "Analytical Engines", "job_title": "Analyst", "country": "GB",
        "utm_source": "src", "utm_medium": "med", "utm_campaign": "camp", "utm_term": "term",
        "utm_content": "cont", "referrer": "https://ref.example/", "custom": {"badge": "A-17"}, "problems": {},
    }


@pytest.mark.parametrize("country", ["Antarctica", "AQ", "Bouvet Island"])
def test_a_country_without_a_numbering_plan_leaves_the_phone_to_the_fallback_region(country):
    record = {"name": "Ada Lovelace", "phone": "020 7946 0018", "country": country}

    cleaned = clean_record(record, "GB")

    assert isinstance(cleaned, Candidate)
    assert (cleaned.phone_e164, cleaned.country) == ("+442079460018", "AQ" if country != "Bouvet Island" else "BV")


def test_a_country_with_a_numbering_plan_wins_over_the_fallback_region():
    cleaned = clean_record({"name": "Ada Lovelace", "phone": "030 901820", "country": "Germany"}, "GB")

    assert isinstance(cleaned, Candidate) and cleaned.phone_e164 == "+4930901820"

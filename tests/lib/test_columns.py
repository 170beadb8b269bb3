"""Tests for leadbase.lib.columns: guessing and checking the header -> lead field mapping."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.lib.columns import _ALIASES, FIELDS, guess_mapping, validate_mapping
from leadbase.lib.csvfile import CsvError


def test_every_listed_alias_maps_to_its_own_field() -> None:
    for field, aliases in _ALIASES.items():
        for alias in aliases:
            assert guess_mapping([alias]) == [field], alias


def test_every_field_can_be_guessed_from_its_own_name() -> None:
    assert guess_mapping(list(FIELDS)) == list(FIELDS)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # HubSpot
        (
            ["First Name", "Last Name", "Email", "Phone Number", "Company Name", "Country/Region"],
            ["first_name", "last_name", "email", "phone", "company", "country"],
        ),
        # Salesforce leads
        (
            ["Title", "Company", "Email", "Lead Source", "Description"],
            ["job_title", "company", "email", "source", "notes"],
        ),
        # Mautic
        (
            ["firstname", "lastname", "email", "position"],
            ["first_name", "last_name", "email", "job_title"],
        ),
        # Pipedrive
        (
            [
                "Person - Name",
                "Person - Email - Work",
                "Person - Phone - Mobile",
                "Organization - Name",
            ],
            ["name", "email", "phone", "company"],
        ),
        # Zoho and Odoo
        (["Designation", "Lead Source"], ["job_title", "source"]),
        (["Contact Name", "Email", "Job Position"], ["name", "email", "job_title"]),
        # LinkedIn connections export
        (
            [
                "First Name",
                "Last Name",
                "URL",
                "Email Address",
                "Company",
                "Position",
                "Connected On",
            ],
            [
                "first_name",
                "last_name",
                "custom:url",
                "email",
                "company",
                "job_title",
                "custom:connected_on",
            ],
        ),
        # Google Contacts
        (["Given Name", "Family Name", "E-mail 1 - Value"], ["first_name", "last_name", "email"]),
        # German spreadsheet, trade-show scanner
        (
            ["Vorname", "Nachname", "E-Mail-Adresse", "Telefon", "Firma", "Land"],
            ["first_name", "last_name", "email", "phone", "company", "country"],
        ),
        (["Full name", "Work email", "Cell", "Employer"], ["name", "email", "phone", "company"]),
        # Dutch, Italian, Spanish and French spreadsheets
        (
            ["Volledige naam", "E-mailadres", "Telefoonnummer", "Bedrijfsnaam", "Functie", "Land"],
            ["name", "email", "phone", "company", "job_title", "country"],
        ),
        (["Naam", "Emailadres", "Mobiel", "Organisatie"], ["name", "email", "phone", "company"]),
        (
            [
                "Nome e cognome",
                "Indirizzo email",
                "Numero di telefono",
                "Ragione sociale",
                "Nazione",
            ],
            ["name", "email", "phone", "company", "country"],
        ),
        (
            ["Nome completo", "Indirizzo e-mail", "Telefono", "Società", "Ruolo"],
            ["name", "email", "phone", "company", "job_title"],
        ),
        (
            ["Nombre completo", "Correo electrónico", "Teléfono móvil", "Compañía", "Fuente"],
            ["name", "email", "phone", "company", "source"],
        ),
        (
            ["Nom complet", "Adresse électronique", "Numéro de téléphone", "Nom de l'entreprise"],
            ["name", "email", "phone", "company"],
        ),
        # more CRM spellings: Salesforce reports, HubSpot
        (
            ["First Name", "Last Name", "Company / Account", "Email", "Mailing Country"],
            ["first_name", "last_name", "company", "email", "country"],
        ),
        (["Full Name", "Email", "Associated Company"], ["name", "email", "company"]),
        (["Contact", "Mail", "Tel.", "Organisation"], ["name", "email", "phone", "company"]),
        # camelCase and snake_case from JSON-minded tools
        (
            ["firstName", "email_address", "jobTitle", "utmCampaign"],
            ["first_name", "email", "job_title", "utm_campaign"],
        ),
        (
            ["UTM Source", "utm-medium", "utm_campaign", "Utm Term", "utm_content", "Referrer URL"],
            ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer"],
        ),
    ],
)
def test_common_export_headers_are_recognised(header: list[str], expected: list[str]) -> None:
    assert guess_mapping(header) == expected


def test_matching_ignores_case_spaces_punctuation_and_accents() -> None:
    assert guess_mapping(["  E-MAIL ", "téléphone", "PRÉNOM", "job_title!"]) == [
        "email",
        "phone",
        "first_name",
        "job_title",
    ]


def test_filler_words_do_not_turn_unrelated_columns_into_fields() -> None:
    header = ["Lead Status", "Contact Owner", "Email Opt Out", "Home Address", "Phone 1 - Type"]
    assert guess_mapping(header) == [
        "custom:lead_status",
        "custom:contact_owner",
        "custom:email_opt_out",
        "custom:home_address",
        "custom:phone_1_type",
    ]


def test_bare_name_next_to_a_first_name_column_is_the_last_name() -> None:
    assert guess_mapping(["Vorname", "Name", "Email"]) == ["first_name", "last_name", "email"]


def test_bare_name_next_to_a_last_name_column_is_the_first_name() -> None:
    assert guess_mapping(["Name", "Surname", "Email"]) == ["first_name", "last_name", "email"]
    assert guess_mapping(["Nombre", "Apellidos", "Correo"]) == ["first_name", "last_name", "email"]


def test_bare_name_alone_or_with_both_name_parts_is_the_full_name() -> None:
    assert guess_mapping(["Name", "Email"]) == ["name", "email"]
    assert guess_mapping(["Name", "First name", "Last name"]) == ["name", "first_name", "last_name"]


def test_only_the_first_column_for_a_field_takes_it_and_later_ones_become_custom() -> None:
    assert guess_mapping(["Phone", "Mobile", "Email", "Email 2"]) == [
        "phone",
        "custom:mobile",
        "email",
        "custom:email_2",
    ]


def test_unknown_headers_become_custom_slugs() -> None:
    assert guess_mapping(["Lead Score (0-100)", "Größe", "  Trade show booth #  "]) == [
        "custom:lead_score_0_100",
        "custom:grosse",
        "custom:trade_show_booth",
    ]


def test_header_with_duplicate_names_gets_unique_custom_keys() -> None:
    header = ["Email", "Email", "Tags", "tags", "TAGS!", "Name"]
    assert guess_mapping(header) == [
        "email",
        "custom:email",
        "custom:tags",
        "custom:tags_2",
        "custom:tags_3",
        "name",
    ]


def test_empty_header_cells_are_ignored() -> None:
    assert guess_mapping(["Name", "", "  ", "Email"]) == ["name", "", "", "email"]


def test_header_without_latin_letters_gets_a_positional_key() -> None:
    assert guess_mapping(["Name", "电话"]) == ["name", "custom:column_2"]


def test_custom_slugs_are_capped_at_50_characters() -> None:
    (target,) = guess_mapping(["x" * 80])
    assert target == "custom:" + "x" * 50


@given(st.lists(st.text(max_size=30), max_size=12))
def test_guess_mapping_gives_one_valid_distinct_target_per_column(header: list[str]) -> None:
    mapping = guess_mapping(header)
    assert len(mapping) == len(header)
    assigned = [target for target in mapping if target]
    assert len(assigned) == len(set(assigned))  # fields and custom keys are unique
    for cell, target in zip(header, mapping, strict=True):
        assert (target == "") == (cell.strip() == "")
        assert target in FIELDS or re.fullmatch(r"custom:[a-z0-9_]{1,50}", target) or target == ""


def test_mapping_with_a_name_and_a_contact_is_valid() -> None:
    validate_mapping(["first_name", "last_name", "", "phone", "custom:tags"])
    validate_mapping(["name", "email"])


def test_mapping_without_a_contact_names_the_missing_email_or_phone() -> None:
    with pytest.raises(CsvError) as caught:
        validate_mapping(["name", "company", "custom:email_2"])
    assert caught.value.code == "no_usable_columns"
    assert "no column looks like an email or phone" in caught.value.message.lower()


def test_mapping_without_a_name_names_the_missing_name() -> None:
    with pytest.raises(CsvError) as caught:
        validate_mapping(["email", "phone"])
    assert caught.value.code == "no_usable_columns"
    assert "no column looks like a name" in caught.value.message.lower()


def test_mapping_without_either_names_both() -> None:
    with pytest.raises(CsvError) as caught:
        validate_mapping(guess_mapping(["Foo", "Bar"]))
    message = caught.value.message.lower()
    assert "a name" in message and "email or phone" in message


def test_mapping_with_an_unknown_target_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a lead field"):
        validate_mapping(["name", "email", "shoe_size"])
    with pytest.raises(ValueError, match="not a lead field"):
        validate_mapping(["name", "email", "custom:"])


def test_mapping_a_field_from_two_columns_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="more than one column") as caught:
        validate_mapping(["name", "email", "email"])
    assert not isinstance(caught.value, CsvError)

"""Names: cleaning and plausibility, splitting and joining, keys, fuzzy comparison."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.lib.cleaning import (
    Invalid,
    clean_name,
    join_name,
    name_key,
    names_agree,
    names_clearly_differ,
    split_name,
)

REAL_NAMES = [
    "José Ñúñez", "李小龙", "Ødegaard", "O'Brien", "Mary-Jane van der Berg", "Nguyễn Văn A",
    "محمد", "मोहनदास करमचंद गांधी", "Анна Каренина", "김민준", "Σωκράτης", "J.R.R. Tolkien",
    "Dr. Jane Q. Smith", "Smith, Jane", "Jean-Luc Picard", "Ngũgĩ wa Thiong'o", "D’Angelo",
    "Björk", "Zoë Saldaña", "Louis XIV", "Agent 47", "Mohammed bin Salman", "Sinéad O’Connor",
    "Na Li", "X Æ A-12 Musk", "محمد‌رضا",  # the last one with a zero-width non-joiner
]


@pytest.mark.parametrize("name", REAL_NAMES)
def test_it_accepts_real_names_of_every_script(name: str) -> None:
    assert clean_name(name) == name


def test_it_returns_none_when_no_name_is_given() -> None:
    assert clean_name(None) is None
    assert clean_name("") is None
    assert clean_name(" \t\u00a0\u200b\n") is None


def test_it_trims_and_collapses_whitespace() -> None:
    assert clean_name("  Jane \t\u00a0 van  der\nBerg ") == "Jane van der Berg"


def test_it_composes_accents_to_nfc() -> None:
    assert clean_name("Jose\u0301 N\u0303u\u0301n\u0303ez") == "José Ñúñez"


def test_it_drops_invisible_characters_left_by_copy_and_paste() -> None:
    assert clean_name("\ufeffJane\u200b Smith\u00ad") == "Jane Smith"


@pytest.mark.parametrize(
    "raw",
    ["n/a", "N/A", "N.A.", "na", "NULL", "none", "nil", "undefined", "Unknown", "test",
     "Test Test", "asdf", "xxx", "XXXX", "-", ".", "?", "--", "First Last", "firstname lastname",
     "Vorname Nachname", "John Doe", "jane doe", "Your Name", "Anonymous"],
)
def test_it_refuses_placeholder_names(raw: str) -> None:
    with pytest.raises(Invalid) as error:
        clean_name(raw)
    assert error.value.code == "invalid_name"
    assert error.value.message == f"“{raw}” is a placeholder, not a name."


def test_names_that_merely_contain_a_placeholder_pass() -> None:
    for name in ("John Doel", "Johnny Doe", "John Q. Doe", "Tess Test", "Nan Goldin"):
        assert clean_name(name) == name


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12345", "has no letters"),
        ("+49 170 1234567", "has no letters"),
        ("😀😀", "has no letters"),
        ("A 12345", "is mostly digits"),
        ("=SUM(A1:A3)", "spreadsheet formula"),
        ("=Jane", "spreadsheet formula"),
        ("+cmd|' /C calc'!A0", "spreadsheet formula"),
        ("@SUM(A1)", "spreadsheet formula"),
        ("-Jane+A1", "spreadsheet formula"),
        ("<script>alert(1)</script>", "markup"),
        ("Jane <b>Smith</b>", "markup"),
        ("Tom &amp; Jerry", "markup"),
        ("Jane &#60;", "markup"),
        ("javascript:alert(1)", "markup"),
        ("jane@example.com", "email address"),
        ("Jane Smith jane@example.com", "email address"),
        ("https://example.com/jane", "web address"),
        ("www.janesmith.com", "web address"),
        ("janesmith.com", "web address"),
        ("Jane\x00Smith", "control"),
        ("Jane\x07", "control"),
        ("Jane\u202eSmith", "control"),
        ("a" * 201, "longer than 200"),
    ],
)
def test_it_refuses_values_that_are_not_names(raw: str, reason: str) -> None:
    with pytest.raises(Invalid) as error:
        clean_name(raw)
    assert error.value.code == "invalid_name"
    assert reason in error.value.message


def test_a_hyphen_only_matters_at_the_start_as_a_formula() -> None:
    assert clean_name("Jean-Luc") == "Jean-Luc"
    assert clean_name("Anne-Marie Smith-Jones") == "Anne-Marie Smith-Jones"


def test_it_accepts_two_hundred_characters() -> None:
    name = "Jane " + "a" * 195
    assert clean_name(name) == name


@settings(max_examples=800, deadline=None)
@given(st.text(max_size=80))
def test_cleaning_is_idempotent_and_raises_only_invalid(raw: str) -> None:
    try:
        name = clean_name(raw)
    except Invalid as error:
        assert error.code == "invalid_name"
        return
    if name is not None:
        assert clean_name(name) == name
        assert name == name.strip() and "  " not in name


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Dr. Jane Q. Smith", ("Jane", "Smith")),
        ("Smith, Jane", ("Jane", "Smith")),
        ("Smith, Jane Q.", ("Jane", "Smith")),
        ("Jane Smith, PhD", ("Jane", "Smith")),
        ("Mr John Smith Jr.", ("John", "Smith")),
        ("Prof. Dr. Ada Lovelace", ("Ada", "Lovelace")),
        ("John Smith III", ("John", "Smith")),
        ("Mrs. Ms Jane Smith Sr", ("Jane", "Smith")),
        ("Jane", ("Jane", "")),
        ("李小龙", ("李小龙", "")),
        ("Mary-Jane van der Berg", ("Mary-Jane", "van der Berg")),
        ("Juan de la Cruz", ("Juan", "de la Cruz")),
        ("Van Morrison", ("Van", "Morrison")),
    ],
)
def test_it_splits_names_for_greetings(name: str, parts: tuple[str, str]) -> None:
    assert split_name(name) == parts


def test_it_joins_first_and_last_columns() -> None:
    assert join_name(" Jane ", " Smith ") == "Jane Smith"
    assert join_name("Jane", None) == "Jane"
    assert join_name(None, "Smith") == "Smith"
    assert join_name(None, " ") is None
    assert join_name("Jane Smith", "Smith") == "Jane Smith"  # full name typed into First


def test_the_name_key_folds_case_accents_and_spaces() -> None:
    assert name_key("  José   ÑÚÑEZ ") == "jose nunez"
    assert name_key("Ødegaard") == "odegaard"
    assert name_key("Straße") == "strasse"
    assert name_key("İstanbul") == "istanbul"
    assert name_key("김민준") == "김민준"


@settings(deadline=None)
@given(st.text(max_size=40))
def test_the_name_key_is_stable(name: str) -> None:
    key = name_key(name)
    assert name_key(key) == key


AGREE = [
    ("J. Smith", "John Smith"),
    ("Jon Smith", "John Smith"),
    ("Smith, John", "John Smith"),
    ("john smith", "John  Smith"),
    ("Dr. John Smith", "John Smith"),
    ("José Núñez", "Jose Nunez"),
    ("John Smyth", "John Smith"),
]
DISAGREE = [
    ("John Smith", "Mary Smith"),
    ("John Smith", "Mary Jones"),
    ("Jane Smith", "John Smith"),
    ("Smith", "John Smith"),
    ("J. Smith", "M. Smith"),
    ("", "John Smith"),
]


@pytest.mark.parametrize(("a", "b"), AGREE)
def test_names_of_the_same_person_agree(a: str, b: str) -> None:
    assert names_agree(a, b) and names_agree(b, a)
    assert not names_clearly_differ(a, b)


@pytest.mark.parametrize(("a", "b"), DISAGREE)
def test_names_of_different_people_do_not_agree(a: str, b: str) -> None:
    assert not names_agree(a, b) and not names_agree(b, a)


def test_only_obviously_different_names_clearly_differ() -> None:
    assert names_clearly_differ("John Smith", "Mary Jones")
    assert names_clearly_differ("Ahmed Khan", "李小龙")
    # Relatives: both names are whole and the given names differ.
    assert names_clearly_differ("John Smith", "Mary Smith")
    assert names_clearly_differ("J. Smith", "M. Smith")
    # One person written two ways: a short form of the given name, a second family name.
    assert not names_clearly_differ("Jonathan Smith", "Jon Smith")
    assert not names_clearly_differ("Chris Lee", "Christopher Lee")
    assert not names_clearly_differ("Maria Gonzalez", "Maria Gonzalez Lopez")
    assert not names_clearly_differ("Smith", "John Smith")
    assert not names_clearly_differ("J. Smith", "John Smith")
    assert not names_clearly_differ("Jon Smith", "John Smith")
    assert not names_clearly_differ("", "John Smith")


names = st.one_of(
    st.sampled_from(REAL_NAMES + [a for pair in AGREE + DISAGREE for a in pair]),
    st.text(alphabet="JjohnSmitMary. ,", max_size=20),
)


@settings(deadline=None)
@given(names, names)
def test_agreeing_and_clearly_differing_are_symmetric_and_exclusive(a: str, b: str) -> None:
    assert names_agree(a, b) == names_agree(b, a)
    assert names_clearly_differ(a, b) == names_clearly_differ(b, a)
    assert not (names_agree(a, b) and names_clearly_differ(a, b))

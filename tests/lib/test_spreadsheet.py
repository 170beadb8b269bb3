"""Tests for leadbase.lib.spreadsheet: formula neutralization of exported cells."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.lib.spreadsheet import DANGEROUS_STARTS, neutralize

E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "-5",
        "+49 30 123456",  # a phone with spaces is not E.164
        "+0123456789",  # E.164 never starts with 0 after the plus
        "+1234567890123456",  # 16 digits: longer than E.164 allows
    ],
)
def test_cell_starting_like_a_formula_gets_a_leading_apostrophe(cell: str) -> None:
    assert neutralize(cell) == "'" + cell


@pytest.mark.parametrize("phone", ["+4930123456", "+14155550123", "+1234567", "+123456789012345"])
def test_e164_phone_is_kept_so_exported_phones_stay_usable(phone: str) -> None:
    assert neutralize(phone) == phone


@pytest.mark.parametrize(
    "cell", ["", "Anna", "anna@example.com", "'=already", " =x", "5-3", "Acme = best"]
)
def test_other_cells_are_unchanged(cell: str) -> None:
    assert neutralize(cell) == cell


def test_e164_check_rejects_non_ascii_digits_and_a_trailing_newline() -> None:
    assert neutralize("+٤٩٣٠١٢٣٤٥٦") == "'+٤٩٣٠١٢٣٤٥٦"
    assert neutralize("+4930123456\n") == "'+4930123456\n"


@given(st.text())
def test_neutralized_cell_never_starts_dangerously_unless_e164(cell: str) -> None:
    result = neutralize(cell)
    assert not result.startswith(DANGEROUS_STARTS) or E164.fullmatch(result)
    assert result in (cell, "'" + cell)


@given(st.text() | st.from_regex(E164, fullmatch=True))
def test_neutralize_is_idempotent(cell: str) -> None:
    assert neutralize(neutralize(cell)) == neutralize(cell)

"""country_code and phone_region_for: codes and names in many spellings, never an error."""

from __future__ import annotations

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.lib.cleaning import country_code, phone_region_for


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("DE", "DE"), ("de", "DE"), (" de ", "DE"), ("DEU", "DE"), ("deu", "DE"),
        ("Germany", "DE"), ("GERMANY", "DE"), ("Deutschland", "DE"), ("Allemagne", "DE"),
        ("United States", "US"), ("USA", "US"), ("U.S.", "US"), ("U.S.A.", "US"),
        ("United States of America", "US"), ("Vereinigte Staaten", "US"), ("États-Unis", "US"),
        ("UK", "GB"), ("U.K.", "GB"), ("Great Britain", "GB"), ("United Kingdom", "GB"),
        ("England", "GB"), ("España", "ES"), ("Espana", "ES"), ("ESPAÑA", "ES"),
        ("the Netherlands", "NL"), ("Nederland", "NL"), ("Holland", "NL"), ("Österreich", "AT"),
        ("Schweiz", "CH"), ("Suisse", "CH"), ("Brasil", "BR"), ("México", "MX"), ("Polska", "PL"),
        ("Côte d'Ivoire", "CI"), ("Ivory Coast", "CI"), ("South Korea", "KR"),
        ("Korea, Republic of", "KR"), ("Russia", "RU"), ("Россия", "RU"), ("Türkiye", "TR"),
        ("Turkey", "TR"), ("Czechia", "CZ"), ("Czech Republic", "CZ"), ("日本", "JP"),
        ("中国", "CN"), ("Kosovo", "XK"), ("UAE", "AE"),
    ],
)
def test_it_reads_codes_and_names_in_common_spellings(raw: str, code: str) -> None:
    assert country_code(raw) == code


@pytest.mark.parametrize("raw", [None, "", "  ", "XX", "ZZ", "Atlantis", "EU", "Earth", "..."])
def test_it_returns_none_for_unknown_countries(raw: str | None) -> None:
    assert country_code(raw) is None


def test_every_iso_code_reads_as_itself() -> None:
    for country in pycountry.countries:
        assert country_code(country.alpha_2) == country.alpha_2
        assert country_code(country.alpha_3.lower()) == country.alpha_2
        assert country_code(country.name) == country.alpha_2


def test_codes_win_over_names_that_look_like_codes() -> None:
    assert country_code("AO") == "AO"  # Angola, though "Áo" is Austria in Vietnamese
    assert country_code("NGA") == "NG"  # Nigeria, though "Nga" is Russia in Vietnamese


@settings(deadline=None)
@given(st.text(max_size=40))
def test_it_never_raises_and_answers_an_iso_code_or_none(raw: str) -> None:
    code = country_code(raw)
    assert code is None or (len(code) == 2 and country_code(code) == code)


def test_the_phone_region_is_the_country_else_the_fallback() -> None:
    assert phone_region_for("Deutschland", "US") == "DE"
    assert phone_region_for("Atlantis", "US") == "US"
    assert phone_region_for(None, "GB") == "GB"
    assert phone_region_for("", None) is None

"""Country names and codes to ISO 3166-1 alpha-2, for country columns and phone regions.

Invariants:
- `country_code(raw)` returns an alpha-2 code or None; it never raises.
- Accepted: alpha-2 and alpha-3 codes and country names in any case, with or without dots,
  accents and a leading "the": pycountry's ISO names in English and in `LANGUAGES` (its
  iso-codes translations), and `ALIASES` for the usual informal names. A name that two
  translations give to different countries is dropped (a few translation errors do that).
  Codes and aliases win over names; accents are ignored only when the name is not found with
  them.
- Tables are built once at import (about 0.1 s); a lookup is a cached dict access.
  phonenumbers' LOCALE_DATA is not used: importing it loads the library's whole geocoding
  data set (0.7 s and ~100 MB per process).
"""

from __future__ import annotations

import gettext
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import pycountry

# Languages of the countries leads usually come from; each costs ~2 ms at import.
LANGUAGES = (
    "ar", "bg", "ca", "cs", "da", "de", "el", "es", "et", "fi", "fr", "ga", "he", "hi", "hr",
    "hu", "id", "it", "ja", "ko", "lt", "lv", "nb_NO", "nl", "pl", "pt", "pt_BR", "ro", "ru",
    "sk", "sl", "sr", "sv", "th", "tr", "uk", "vi", "zh_CN", "zh_TW",
)

# Informal and former names people type that neither source lists (keys as `_key` makes them).
ALIASES: dict[str, str] = {
    "usa": "US", "us of a": "US", "america": "US", "united states of america": "US",
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "holland": "NL", "korea": "KR",
    "republic of korea": "KR", "north korea": "KP", "ivory coast": "CI", "uae": "AE",
    "burma": "MM", "swaziland": "SZ", "cape verde": "CV", "vatican": "VA",
    "vatican city": "VA", "east timor": "TL", "czech republic": "CZ", "turkey": "TR",
    "russia": "RU", "россия": "RU",
    "kosovo": "XK", "xk": "XK",  # user-assigned code, used by phonenumbers and most software
}


def _key(text: str) -> str:
    """Casefolded, dots removed ("U.S.A."), whitespace collapsed."""
    return " ".join(text.casefold().replace(".", "").split())


def _unaccented(key: str) -> str:
    decomposed = unicodedata.normalize("NFKD", key)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _iso_names() -> Iterator[tuple[str, str]]:
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                yield name, country.alpha_2


def _build() -> tuple[dict[str, str], dict[str, str]]:
    """(codes and names by key, the same by unaccented key)."""
    english = list(_iso_names())
    names = {_key(name): code for name, code in english}
    translated: dict[str, set[str]] = {}
    for language in LANGUAGES:
        translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [language])
        for name, code in english:
            translated.setdefault(_key(translation.gettext(name)), set()).add(code)
    for key, found in translated.items():
        if len(found) == 1:
            names.setdefault(key, found.pop())
    unaccented: dict[str, set[str]] = {}
    for key, code in names.items():
        unaccented.setdefault(_unaccented(key), set()).add(code)
    by_unaccented = {key: found.pop() for key, found in unaccented.items() if len(found) == 1}
    codes = {country.alpha_3.casefold(): country.alpha_2 for country in pycountry.countries}
    codes.update((country.alpha_2.casefold(), country.alpha_2) for country in pycountry.countries)
    # Codes and aliases take precedence over names in both tables.
    for table in (names, by_unaccented):
        table.update(codes)
        table.update(ALIASES)
    return names, by_unaccented


_BY_KEY, _BY_UNACCENTED_KEY = _build()


_MAX_LENGTH = 100  # the longest ISO name has 52 characters; longer cells are not countries


def country_code(raw: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code for a code or country name, or None when unknown."""
    if not raw or len(raw) > _MAX_LENGTH:
        return None
    return _lookup(raw)


@lru_cache(maxsize=4096)  # a country column repeats a few hundred spellings at most
def _lookup(raw: str) -> str | None:
    key = _key(raw)
    code = _BY_KEY.get(key)
    if code is None:
        key = _unaccented(key)
        code = _BY_UNACCENTED_KEY.get(key)
        if code is None and key.startswith("the "):
            code = _BY_UNACCENTED_KEY.get(key[4:])
    return code


def phone_region_for(country: str | None, fallback: str | None) -> str | None:
    """The region to read national phone numbers in: the lead's country, else `fallback`."""
    return country_code(country) or fallback

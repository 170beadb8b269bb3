"""Phone number cleaning: parse with phonenumbers, keep valid numbers only, store E.164.

Invariants:
- `clean_phone(raw, region)` is None only when nothing was given (None, or only blanks);
  otherwise it returns a `Phone` or raises `Invalid("invalid_phone", …)`, and nothing else.
- The result is phonenumbers' own: `parse(raw, region)`, `is_valid_number`, E.164 format,
  the extension, `region_code_for_number`. `region` (ISO alpha-2, any case; None, "" and "ZZ"
  mean none) is only used for numbers written without an international prefix.
- Two fast paths reach that same result with less work, and the tests hold them to it:
  1. Text made only of digits, an optional leading '+', the punctuation people type inside
     numbers (space - . ( ) /) and an optional "ext"/"x" extension cannot contain anything
     that parse() scans for (tel: URIs, letters, extension label variants, second numbers),
     so its digits go straight to parse()'s own number logic (same helpers, same order).
  2. Validity and region come from one precompiled regex per region and number length,
     built from the library's metadata, instead of its walk over ten number-type patterns.
- One deliberate difference: a label written after the number ("(office)", "/ mobile",
  ", Work", " home") is dropped before parsing. phonenumbers reads letters as a vanity number's
  keypad digits, and a German number (no fixed length) with "633423" for "office" appended
  passes as valid. Letters that are part of the number ("1-800-FLOWERS", "6005a") stay.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    SUPPORTED_REGIONS,
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
)
from phonenumbers import phonenumberutil as _util

from leadbase.lib.errors import BLANK, Invalid, shown

# parse() otherwise recompiles (via re's small cache) the metadata patterns on every call.
phonenumbers.enable_pattern_cache()


class Phone(NamedTuple):
    """A valid number: how to store it, its extension, and the region it belongs to."""

    e164: str  # "+4930123456"
    extension: str  # "" when none
    region: str  # ISO region of the number ("DE"), "001" for non-geographic numbers


_PLAIN = re.compile(
    r"(?P<number>\+?[0-9 ().\-/]*[0-9)])"
    # Labels that parse() reads as an extension too; at most 9 digits, its limit after "x".
    r"(?:[ ]*(?:ext|extn|extension|x)\.?[ ]*(?P<extension>[0-9]{1,9}))?",
    re.IGNORECASE,
).fullmatch
_PUNCTUATION = str.maketrans("", "", " ().-/")
# Words people put after a number to say which one it is (English, German, French, Spanish,
# Italian, Dutch).
_LABELS = (
    "home", "office", "work", "mobile", "cell", "cellular", "fax", "main", "direct", "business",
    "private", "landline", "privat", "büro", "buero", "mobil", "handy", "geschäftlich",
    "dienstlich", "bureau", "travail", "portable", "domicile", "casa", "oficina", "trabajo",
    "móvil", "movil", "celular", "ufficio", "lavoro", "cellulare", "kantoor", "werk", "thuis",
    "mobiel",
)  # fmt: skip
# A trailing label: text in brackets, or after "/" or ",", or a known label word, with no
# digit, and a letter that is not the extension mark "x".
_ANNOTATION = re.compile(
    r"\s*(?:[(\[][^\d()\[\]]*[)\]]|[/,][^\d/,]*|\s(?:" + "|".join(_LABELS) + r")\.?)\s*$",
    re.IGNORECASE,
)
_LABEL_LETTER = re.compile(r"[^\W\d_xX]")
# What parse() reads as the start of an extension ("ext.", "extn", "x", "int.", "anexo", "#"):
# such a tail is left to parse().
_EXTENSION_MARK = re.compile(r"\b(?:e?xt\w*|x|int|anexo)\b|[#;]", re.IGNORECASE)
# Enough digits that parse() finds the number viable whatever the punctuation, few enough
# for a country code plus its longest national number.
_PLAIN_DIGITS = range(6, 21)
_MAX_INPUT_LENGTH = 250  # parse() refuses longer text (TOO_LONG)
_MAX_NSN_LENGTH = 17
_REJECTED_LENGTHS = (
    _util.ValidationResult.TOO_SHORT,
    _util.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    _util.ValidationResult.INVALID_LENGTH,
)
_UNPARSEABLE = {
    NumberParseException.INVALID_COUNTRY_CODE: (
        "it has no known country code (write it as +<country code> <number>, or give the country)"
    ),
    NumberParseException.TOO_SHORT_AFTER_IDD: "it has too few digits",
    NumberParseException.TOO_SHORT_NSN: "it has too few digits",
    NumberParseException.TOO_LONG: "it has too many digits",
}


def clean_phone(raw: str | None, region: str | None = None) -> Phone | None:
    """The valid number in `raw` (E.164 + extension); None if `raw` is blank; else raise Invalid."""
    if raw is None:
        return None
    text = raw.strip(BLANK)
    if not text:
        return None
    region = (region or "").strip().upper()
    if region in ("", "ZZ"):  # ZZ: phonenumbers' "unknown region"
        region = None
    numobj, extension = None, ""
    plain = _PLAIN(text) if len(text) <= _MAX_INPUT_LENGTH else None
    number_text = text
    if plain is None and not text.lower().startswith("tel:"):  # RFC 3966 URIs have no labels
        number_text = _without_label(text)
        if number_text is not text:
            plain = _PLAIN(number_text) if len(number_text) <= _MAX_INPUT_LENGTH else None
    if plain is not None:
        digits = plain["number"].translate(_PUNCTUATION)
        if len(digits) - digits.startswith("+") in _PLAIN_DIGITS:
            numobj = _parse_digits(digits, region)
            extension = plain["extension"] or ""
    if numobj is None:
        try:
            numobj = phonenumbers.parse(number_text, region)
        except NumberParseException as error:
            reason = _UNPARSEABLE.get(error.error_type)
            detail = f": {reason}." if reason else "."
            raise Invalid("invalid_phone", f"{shown(text)} is not a phone number{detail}") from None
        extension = numobj.extension or ""
    country_code, nsn = numobj.country_code or 0, phonenumbers.national_significant_number(numobj)
    number_region = _valid_region(country_code, nsn)
    if number_region is None:
        raise Invalid(
            "invalid_phone",
            f"{shown(text)} is not a valid phone number: no number of its country looks like it"
            " (check the country code and the number of digits).",
        )
    return Phone(f"+{country_code}{nsn}", extension, number_region)


def _without_label(text: str) -> str:
    """`text` without a label written after the number ("… (office)"), else `text` itself."""
    match = _ANNOTATION.search(text)
    if (
        match is None
        or not _LABEL_LETTER.search(match.group())
        or _EXTENSION_MARK.search(match.group())
    ):
        return text
    number = text[: match.start()]
    return number if any(ch.isdigit() for ch in number) else text


def _parse_digits(digits: str, region: str | None) -> PhoneNumber | None:
    """`phonenumbers.parse(digits, region)` for ASCII digits after an optional '+'.

    The steps of parse() after its text scanning, with its own helpers. Where parse() would
    raise, return None so the caller lets parse() raise with its own reason.
    """
    metadata: PhoneMetadata | None
    if digits[0] == "+":
        country_code, national = _util._extract_country_code(digits[1:])
        if country_code == 0:
            return None
        metadata = _metadata_for_code(country_code)
    else:
        # parse() needs a region to read a number written without '+'.
        metadata = PhoneMetadata.metadata_for_region(region) if region in SUPPORTED_REGIONS else None
        own_code = metadata.country_code if metadata is not None else None
        if metadata is None or own_code is None:
            return None
        extracted = _extract_country_code(digits, metadata, own_code)
        if extracted is None:
            return None
        country_code, national = extracted
        if country_code:
            metadata = _metadata_for_code(country_code)
        else:  # a national number of the region
            country_code, national = own_code, digits
    if metadata is not None:
        # Drop a national (trunk) prefix such as the 0 in "+44 (0)20 …", unless what remains
        # would be too short for the region.
        _, stripped, _ = _util._maybe_strip_national_prefix_carrier_code(national, metadata)
        if _util._test_number_length(stripped, metadata) not in _REJECTED_LENGTHS:
            national = stripped
    if not 2 <= len(national) <= _MAX_NSN_LENGTH:
        return None
    numobj = PhoneNumber(country_code=country_code, national_number=int(national))
    _util._set_italian_leading_zeros_for_phone_number(national, numobj)
    return numobj


def _metadata_for_code(country_code: int) -> PhoneMetadata | None:
    region = _util.region_code_for_country_code(country_code)
    return PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)


def _extract_country_code(
    digits: str, metadata: PhoneMetadata, own_code: int
) -> tuple[int, str] | None:
    """`_maybe_extract_country_code` of phonenumbers for ASCII digits written without '+'.

    (country code, national number) when the digits start with the region's international
    prefix (00, 011…) or with its own country code; (0, "") when they are a national number;
    None where parse() would raise.
    """
    idd = metadata.international_prefix
    if idd is not None:
        match = _compiled(idd).match(digits)
        if match is not None:
            rest = digits[match.end() :]
            country_code, national = _util._extract_country_code(rest)
            # No known country code after it (parse() reads a 0 there as part of a national
            # number, then raises or not): let parse() decide.
            if len(rest) <= 2 or country_code == 0:
                return None
            return country_code, national
    if digits.startswith(str(own_code)):
        # The region's country code without '+' (e.g. "4930…" in DE): take it off only if that
        # turns a number that does not fit the region into one that does, or one too long.
        general = metadata.general_desc
        _, national, _ = _util._maybe_strip_national_prefix_carrier_code(
            digits[len(str(own_code)) :], metadata
        )
        if (
            not _util._match_national_number(digits, general, False)
            and _util._match_national_number(national, general, False)
        ) or _util._test_number_length(digits, metadata) == _util.ValidationResult.TOO_LONG:
            return own_code, national
    return 0, ""


def _valid_region(country_code: int, nsn: str) -> str | None:
    """`region_code_for_number(n)` when `is_valid_number(n)`, else None."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if regions is None:
        return None
    if len(regions) == 1:
        region = regions[0]
    else:
        # Several regions share the code (+1, +44, +7…): the first whose leading digits match,
        # or, for regions without leading digits, the first the number is valid in.
        for region in regions:
            metadata = PhoneMetadata.metadata_for_region(region)
            if metadata is None:
                continue
            if metadata.leading_digits is not None:
                if _compiled(metadata.leading_digits).match(nsn):
                    break
            elif _is_valid_for(region, metadata, nsn):
                break
        else:
            return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None
    # Non-geographic numbers (+800, +882…) share the region "001" but not their metadata.
    key = region if region != REGION_CODE_FOR_NON_GEO_ENTITY else f"+{country_code}"
    return region if _is_valid_for(key, metadata, nsn) else None


_PATTERNS: dict[str, re.Pattern[str]] = {}
_VALIDATORS: dict[str, dict[int, re.Pattern[str]]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = _PATTERNS[pattern] = re.compile(pattern)
    return compiled


def _is_valid_for(key: str, metadata: PhoneMetadata, nsn: str) -> bool:
    validators = _VALIDATORS.get(key)
    if validators is None:
        validators = _VALIDATORS[key] = _build_validators(metadata)
    validator = validators.get(len(nsn))
    return validator is not None and validator.fullmatch(nsn) is not None


def _build_validators(metadata: PhoneMetadata) -> dict[int, re.Pattern[str]]:
    """One regex per NSN length: the general pattern (lookahead) and any number type's pattern.

    Equivalent to phonenumbers' `_number_type_helper(nsn, metadata) != UNKNOWN`: the general
    description must match, then any specific type, each only for its possible lengths.
    """
    general = metadata.general_desc
    if general is None or not general.national_number_pattern:
        return {}
    types = [
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
    ]
    if not metadata.same_mobile_and_fixed_line_pattern:  # else the library never tries mobile
        types.append(metadata.mobile)
    validators = {}
    for length in range(1, _MAX_NSN_LENGTH + 1):
        if general.possible_length and length not in general.possible_length:
            continue
        alternatives = [
            f"(?:{desc.national_number_pattern})"
            for desc in types
            if desc is not None
            and desc.national_number_pattern
            and (not desc.possible_length or length in desc.possible_length)
        ]
        if alternatives:
            validators[length] = re.compile(
                rf"(?=(?:{general.national_number_pattern})\Z)(?:{'|'.join(alternatives)})"
            )
    return validators

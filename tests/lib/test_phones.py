"""clean_phone: the shared corpus, agreement with phonenumbers, and the promised behaviour."""

from __future__ import annotations

import json
import random
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from leadbase.lib.cleaning import Invalid, Phone, clean_phone

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
MISSING = f"the shared test corpora are not there: {TESTDATA} is missing"
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def corpus(name: str) -> list:
    path = TESTDATA / name
    if not path.exists():
        return [pytest.param(None, id="missing-corpus")]
    with path.open(encoding="utf-8") as lines:
        return [pytest.param(row, id=row["id"]) for row in map(json.loads, lines)]


def library_says(text: str, region: str | None) -> tuple[str, str, str] | str:
    """What phonenumbers itself makes of `text`: the Phone fields, or why it is refused."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return "not a phone number"
    if not phonenumbers.is_valid_number(number):
        return "not a valid phone number"
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return e164, number.extension or "", phonenumbers.region_code_for_number(number)


def we_say(text: str, region: str | None) -> tuple[str, str, str] | str | None:
    try:
        phone = clean_phone(text, region)
    except Invalid as error:
        assert error.code == "invalid_phone"
        # The two kinds of refusal are told apart in the message, as a marketer needs them.
        if "not a valid phone number" in error.message:
            return "not a valid phone number"
        return "not a phone number"
    return None if phone is None else tuple(phone)


@pytest.mark.parametrize("row", corpus("phones.jsonl"))
def test_it_agrees_with_the_phone_corpus(row: dict | None) -> None:
    if row is None:
        pytest.skip(MISSING)
    region = row["default_region"]
    if not row["input"].strip():  # P0019 is "": no value given, so None rather than a rejection
        assert clean_phone(row["input"], region) is None
    elif row["lead_expectation"] == "accept":
        phone = clean_phone(row["input"], region)
        assert (phone.e164, phone.extension) == (row["expected_e164"], row["expected_extension"])
    else:
        with pytest.raises(Invalid) as error:
            clean_phone(row["input"], region)
        unparseable = row["lead_expectation"] == "reject:unparseable"
        assert ("not a phone number" if unparseable else "not a valid") in error.value.message


TYPES = [
    PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER, PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]
STYLES = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL]
EXTENSIONS = ["", "", "", " ext. 12", " x345", "ext 7", " extension 99", " #12", ";ext=5"]


def written_numbers(region: str, rnd: random.Random) -> list[str]:
    """The region's example numbers, some digits changed, added or dropped, written as people do."""
    texts = []
    for number_type in TYPES:
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is None:
            continue
        for _ in range(3):
            number = phonenumbers.PhoneNumber()
            number.merge_from(example)
            digits = str(number.national_number)
            change = rnd.randrange(4)
            if change == 1:
                digits = digits[:-1] + str(rnd.randrange(10))
            elif change == 2:
                digits += str(rnd.randrange(10))
            elif change == 3 and len(digits) > 2:
                digits = digits[:-1]
            number.national_number = int(digits)
            for style in STYLES:
                text = phonenumbers.format_number(number, style)
                if style == PhoneNumberFormat.INTERNATIONAL:
                    text = rnd.choice([text, "00" + text[1:], "011 " + text[1:]])
                text = text.replace(" ", rnd.choice([" ", "-", ".", "/", ""]))
                text += rnd.choice(EXTENSIONS)
                texts.append(text)
    return texts


@pytest.mark.parametrize("region", REGIONS)
def test_it_reads_every_regions_numbers_as_phonenumbers_does(region: str) -> None:
    # The fast paths must give phonenumbers' own answer, in the number's region, in another
    # region, and without one.
    rnd = random.Random(region)
    for text in written_numbers(region, rnd):
        for default in (region, None, "US", "DE", rnd.choice(REGIONS)):
            assert we_say(text, default) == library_says(text, default), (text, default)


typed = st.text(alphabet="0123456789" * 3 + " +-.()/x#", min_size=1, max_size=24)
labelled = st.builds(
    lambda number, label, extension: f"{number}{label}{extension}",
    st.from_regex(r"\+?[0-9 ().\-/]{4,20}", fullmatch=True),
    st.sampled_from([" ext. ", " x", "ext", " EXT ", " extension ", " x.", " / x", ""]),
    st.text(alphabet="0123456789", max_size=11),
)
regions = st.sampled_from(
    [None, "", "ZZ", "us", "US", "DE", "GB", "IT", "AR", "MX", "BR", "RU", "NZ", "XX"]
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(typed, labelled), regions)
@example("00// ext. ", "us")  # an extension label is not a label to drop
def test_its_fast_paths_agree_with_phonenumbers_on_typed_text(
    text: str, region: str | None
) -> None:
    reference_region = region.upper() if region and region.upper() != "ZZ" else None
    expected = library_says(text.strip(), reference_region) if text.strip() else None
    assert we_say(text, region) == expected


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=60), regions)
def test_it_never_raises_anything_but_invalid(text: str, region: str | None) -> None:
    try:
        result = clean_phone(text, region)
    except Invalid as error:
        assert error.code == "invalid_phone"
    else:
        assert result is None or isinstance(result, Phone)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(REGIONS), st.sampled_from(TYPES), st.sampled_from(REGIONS))
def test_cleaning_a_cleaned_number_changes_nothing(
    region: str, number_type: int, other: str
) -> None:
    example = phonenumbers.example_number_for_type(region, number_type)
    if example is None:
        return
    phone = clean_phone(phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL), region)
    assert clean_phone(phone.e164, other) == phone
    assert clean_phone(f"{phone.e164} ext. 42", other) == phone._replace(extension="42")


def test_it_returns_none_when_no_number_is_given() -> None:
    assert clean_phone(None) is None
    assert clean_phone("") is None
    assert clean_phone(" \u00a0\t") is None


def test_it_stores_e164_with_the_numbers_region() -> None:
    assert clean_phone("+49 30 123456") == Phone("+4930123456", "", "DE")
    assert clean_phone("+1 (416) 555-0123") == Phone("+14165550123", "", "CA")


def test_it_reads_national_numbers_in_the_given_region() -> None:
    assert clean_phone("030 123456", "DE") == Phone("+4930123456", "", "DE")
    assert clean_phone("(650) 253-0000", "us") == Phone("+16502530000", "", "US")
    assert clean_phone("020 7946 0958", "GB").e164 == "+442079460958"


def test_it_reads_00_and_011_international_prefixes() -> None:
    assert clean_phone("0049 30 123456", "DE").e164 == "+4930123456"
    assert clean_phone("011 49 30 123456", "US").e164 == "+4930123456"


def test_it_drops_the_bracketed_trunk_zero() -> None:
    assert clean_phone("+44 (0)20 7946 0958").e164 == "+442079460958"


def test_it_keeps_extensions() -> None:
    assert clean_phone("+1 650-253-0000 ext. 123") == Phone("+16502530000", "123", "US")
    assert clean_phone("(650) 253-0000 x45", "US").extension == "45"
    assert clean_phone("tel:+1-650-253-0000;ext=7", "US").extension == "7"


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("+49-30-1234567 (office)", None, "+49301234567"),
        ("+49 30 1234567 / mobile", None, "+49301234567"),
        ("030 1234567 (Büro)", "DE", "+49301234567"),
        ("+1 202 555 0143 home", None, "+12025550143"),
        ("(202) 555-0143 [cell]", "US", "+12025550143"),
        ("+44 20 7946 0958, Work", None, "+442079460958"),
    ],
)
def test_a_label_written_after_the_number_is_not_dialled(
    text: str, region: str | None, e164: str
) -> None:
    # phonenumbers reads letters as a vanity number's keypad digits: "(office)" would become
    # 633423 at the end of a German number, which has no fixed length, and pass as valid.
    assert clean_phone(text, region).e164 == e164


def test_vanity_numbers_still_read_their_letters() -> None:
    assert clean_phone("+1 800 FLOWERS").e164 == "+18003569377"
    assert clean_phone("1-800-FLOWERS", "US").e164 == "+18003569377"
    assert clean_phone("0900 332 6005a", "NZ").e164 == "+649003326005"


def test_it_ignores_the_region_for_international_numbers() -> None:
    assert clean_phone("+49 30 123456", "US") == Phone("+4930123456", "", "DE")


def test_it_treats_blank_and_zz_regions_as_no_region() -> None:
    for region in (None, "", "ZZ", "zz"):
        assert clean_phone("+4930123456", region).e164 == "+4930123456"
        with pytest.raises(Invalid) as error:
            clean_phone("030 123456", region)
        assert "no known country code" in error.value.message


def test_it_says_text_is_not_a_phone_number() -> None:
    with pytest.raises(Invalid) as error:
        clean_phone("call me maybe", "US")
    assert error.value.message == "“call me maybe” is not a phone number."


def test_it_refuses_numbers_that_are_not_valid() -> None:
    with pytest.raises(Invalid) as error:
        clean_phone("+1 555 000 0000")
    assert error.value.code == "invalid_phone"
    assert error.value.message.startswith("“+1 555 000 0000” is not a valid phone number")


def test_it_keeps_non_geographic_numbers() -> None:
    assert clean_phone("+800 1234 5678") == Phone("+80012345678", "", "001")

"""clean_email: the shared corpus, agreement with email-validator, and the promised behaviour."""

from __future__ import annotations

import json
import pickle
import string
from pathlib import Path

import email_validator
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leadbase.lib.cleaning import ROLE_MAILBOXES, Email, Invalid, clean_email
from leadbase.lib.errors import BLANK

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
MISSING = f"the shared test corpora are not there: {TESTDATA} is missing"

# Rows the corpus calls invalid (as given) that we accept on purpose, because we trim blanks and
# unwrap "Name <addr>" before validating: a CSV cell or form field with a trailing newline or a
# copied "Name <addr>" still holds a usable address. Value: the address we store.
ACCEPTED_AFTER_TRIMMING = {
    row_id: "test@iana.org"
    for row_id in [
        "E0088", "E0089", "E0099", "E0125", "E0126", "E0130", "E0139", "E0140", "E0141", "E0142",
        "E0143", "E0144", "E0145", "E0146", "E0147", "E0148", "E0149", "E0150", "E0151", "E0152",
        "E0153", "E0154", "E0155", "E0156",
    ]
} | {
    "E0441": "test@example.com",
    "E0498": "my@example.com",
    "E0511": "my@example.com",
    "E0626": "a@b.com",
}
ACCEPTED_AFTER_UNWRAPPING = {
    "E0452": "me@example.org",  # MyName <me@example.org>
    "E0453": "me@example.org",  # My Name <me@example.org>
    "E0468": "ṩ@nfc.tld",  # "ṩ" <ṩ@nfc.tld>
    "E0547": "me@example.com",  # <me@example.com>
    "E0552": "me@example.com",
    "E0553": "me@example.com",
    "E0554": "me@example.com",
    "E0555": "me@example.com",
    "E0556": "me@example.com",
}


def corpus(name: str) -> list:
    path = TESTDATA / name
    if not path.exists():
        return [pytest.param(None, id="missing-corpus")]
    with path.open(encoding="utf-8") as lines:
        return [pytest.param(row, id=row["id"]) for row in map(json.loads, lines)]


def email_validator_says(address: str) -> str | None:
    """email-validator's normalized address, or None when it refuses the address."""
    try:
        return email_validator.validate_email(address, check_deliverability=False).normalized
    except email_validator.EmailNotValidError:
        return None


def outcome(raw: str) -> str | None:
    try:
        email = clean_email(raw)
    except Invalid:
        return None
    assert email is not None
    return email.address


@pytest.mark.parametrize("row", corpus("emails.jsonl"))
def test_it_agrees_with_the_email_corpus(row: dict | None) -> None:
    if row is None:
        pytest.skip(MISSING)
    row_id, address = row["id"], row["address"]
    if not address.strip(BLANK):  # rows of "" are no value given: None, not a rejection
        assert clean_email(address) is None
    elif row_id in ACCEPTED_AFTER_TRIMMING or row_id in ACCEPTED_AFTER_UNWRAPPING:
        expected = ACCEPTED_AFTER_TRIMMING.get(row_id) or ACCEPTED_AFTER_UNWRAPPING[row_id]
        assert outcome(address) == expected
    elif row["ev_default_verdict"] == "valid":  # the same as the row's verdict when unanimous
        assert outcome(address) == row["ev_default_normalized"]
    else:
        with pytest.raises(Invalid) as error:
            clean_email(address)
        assert error.value.code == "invalid_email"


# Addresses built to sit on the fast path's edges: every atext character, dots in odd places,
# hyphenated, 63/64-character, Punycode and reserved ("ab--") labels, special-use, numeric and
# one-letter TLDs, mixed case, RFC 2142 mailbox names, and total lengths around 254.
ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
local_parts = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=1, max_size=70),
    st.sampled_from(["info", "INFO", "Sales", "postmaster", "john.smith", "a", "x" * 64]),
)
labels = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=12),
    st.sampled_from(["xn--bcher-kva", "ab--cd", "a--b", "x" * 63, "y" * 64, "-a", "a-", "EXAMPLE"]),
)
top_levels = st.one_of(
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=6),
    st.sampled_from(
        ["test", "local", "localhost", "invalid", "onion", "arpa", "example", "com", "c0m", "123",
         "xn--p1ai", "COM", "museum"]
    ),
)
domains = st.builds(
    lambda parts, tld: ".".join([*parts, tld]), st.lists(labels, min_size=0, max_size=5), top_levels
)
addresses = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains),
    st.builds(
        lambda local, domain, pad: f"{local}@{pad}{domain}",
        local_parts,
        domains,
        st.sampled_from(["a" * 60 + "." + "b" * 60 + "." + "c" * 60 + ".", "d" * 63 + "."]),
    ),
    st.emails(),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(addresses)
@example("test@c--n.com")
@example("info@example.com")
@example("a@b.c")
def test_it_accepts_exactly_what_email_validator_accepts(address: str) -> None:
    # Covers the fast path: it may only accept what email-validator accepts, with its result.
    assert outcome(address) == email_validator_says(address)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_it_never_raises_anything_but_invalid(raw: str) -> None:
    try:
        result = clean_email(raw)
    except Invalid as error:
        assert error.code == "invalid_email"
        assert "\n" not in error.message
    else:
        assert result is None or isinstance(result, Email)


@settings(max_examples=500, deadline=None)
@given(st.one_of(addresses, st.text(alphabet="aé@.<>: \t-", max_size=30)))
def test_cleaning_a_cleaned_address_changes_nothing(raw: str) -> None:
    try:
        email = clean_email(raw)
    except Invalid:
        return
    if email is not None:
        assert clean_email(email.address) == email
        assert clean_email(email.key).key == email.key


def test_ordinary_addresses_do_not_need_email_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    def unexpected(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fast path should have handled this address")

    monkeypatch.setattr(email_validator, "validate_email", unexpected)
    assert clean_email("Jane.Doe+news@Example.CO.UK").address == "Jane.Doe+news@example.co.uk"


def test_it_returns_none_when_no_address_is_given() -> None:
    assert clean_email(None) is None
    assert clean_email("") is None
    assert clean_email(" \t\u00a0\u200b\n") is None


def test_it_trims_spaces_tabs_and_unicode_blanks() -> None:
    assert clean_email("\u00a0\tjane@example.com \u2003\n").address == "jane@example.com"


def test_it_unwraps_mailto_links() -> None:
    assert clean_email("mailto:jane@example.com").address == "jane@example.com"
    assert clean_email("MAILTO:jane@example.com?subject=Hi&body=Yo").address == "jane@example.com"
    assert clean_email("mailto:jane%2Bnews@example.com").address == "jane+news@example.com"


def test_it_unwraps_names_in_angle_brackets() -> None:
    assert clean_email("Jane Doe <jane@example.com>").address == "jane@example.com"
    assert clean_email('"Doe, Jane" <jane@example.com>').address == "jane@example.com"
    assert clean_email("<mailto:jane@example.com>").address == "jane@example.com"


def test_it_unwraps_an_address_quoted_whole_or_forced_to_text_by_a_spreadsheet() -> None:
    # A cell quoted twice by an export, or Excel's ="…" that keeps a value as text.
    assert clean_email('"jane@example.com"').address == "jane@example.com"
    assert clean_email("'jane@example.com'").address == "jane@example.com"
    assert clean_email('="jane@example.com"').address == "jane@example.com"


def test_a_quoted_local_part_is_still_refused() -> None:
    with pytest.raises(Invalid):
        clean_email('"jane doe"@example.com')


def test_it_lowercases_the_domain_and_keeps_the_case_of_the_local_part() -> None:
    email = clean_email("Jane.Doe@Example.COM")
    assert email == Email("Jane.Doe@example.com", "jane.doe@example.com", "example.com", False)


def test_it_lowercases_rfc_2142_mailboxes_as_email_validator_does() -> None:
    assert clean_email("INFO@example.com").address == "info@example.com"


def test_it_accepts_internationalized_addresses() -> None:
    email = clean_email("José@Bücher.de")
    assert email == Email("José@bücher.de", "josé@bücher.de", "bücher.de", False)
    assert clean_email("jane@xn--bcher-kva.de").address == "jane@bücher.de"


def test_it_flags_shared_role_mailboxes() -> None:
    assert {"info", "sales", "support", "noreply"} <= ROLE_MAILBOXES
    assert clean_email("Sales@example.com").is_role
    assert clean_email("info+leads@example.com").is_role
    assert not clean_email("jane@example.com").is_role


@pytest.mark.parametrize(
    "raw",
    [
        '"jane doe"@example.com',  # quoted local part
        "jane@[192.0.2.1]",  # IP literal
        "jane@example.test",  # special-use domain
        "jane@printer.local",
        "jane@localhost",
        "jane..doe@example.com",
        ".jane@example.com",
        "jane@-example.com",
        "jane@example",
        "bob@@x.com",
        "jane doe@example.com",
        "jane@example.com, john@example.com",
    ],
)
def test_it_refuses_what_email_validator_refuses(raw: str) -> None:
    with pytest.raises(Invalid) as error:
        clean_email(raw)
    assert error.value.code == "invalid_email"


def test_the_message_names_the_value_and_the_reason() -> None:
    with pytest.raises(Invalid) as error:
        clean_email("bob@@x.com")
    assert error.value.message.startswith("“bob@@x.com” is not a valid email address: ")
    assert str(error.value) == error.value.message


def test_the_message_shows_control_characters_and_cuts_long_values() -> None:
    with pytest.raises(Invalid) as error:
        clean_email("bob\x00@x.com")
    assert "“bob\\x00@x.com”" in error.value.message
    with pytest.raises(Invalid) as error:
        clean_email("x" * 5000 + "@example.com")
    assert "too long" in error.value.message
    assert len(error.value.message) < 120


def test_invalid_survives_pickling_for_worker_processes() -> None:
    with pytest.raises(Invalid) as error:
        clean_email("nope")
    copy = pickle.loads(pickle.dumps(error.value))
    assert (copy.code, copy.message) == (error.value.code, error.value.message)

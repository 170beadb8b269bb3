"""The signature recipe receivers follow (``leadbase.hooks.signing.verify``), replay included."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from pathlib import Path

import pytest

from leadbase.hooks.signing import sign, verify

SECRET = "a" * 64
BODY = b'{"id":"evt_1","type":"lead.created"}'
NOW = 1_750_000_000


def test_the_signature_is_an_hmac_sha256_of_the_timestamp_and_the_raw_body():
    expected = hmac.new(SECRET.encode(), b"1750000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"v1={expected}"


def test_a_fresh_signed_request_verifies():
    assert verify(SECRET, BODY, str(NOW), sign(SECRET, NOW, BODY), now=NOW + 3)


def test_it_rejects_a_changed_body_or_another_secret():
    signature = sign(SECRET, NOW, BODY)
    assert not verify(SECRET, BODY + b" ", str(NOW), signature, now=NOW)
    assert not verify("b" * 64, BODY, str(NOW), signature, now=NOW)


def test_it_rejects_a_replay_with_a_timestamp_older_than_five_minutes():
    signature = sign(SECRET, NOW, BODY)
    assert verify(SECRET, BODY, str(NOW), signature, now=NOW + 300)
    assert not verify(SECRET, BODY, str(NOW), signature, now=NOW + 301)


def test_it_rejects_a_replay_whose_timestamp_was_changed_to_a_fresh_one():
    assert not verify(SECRET, BODY, str(NOW + 600), sign(SECRET, NOW, BODY), now=NOW + 600)


def test_it_rejects_a_timestamp_far_in_the_future():
    assert not verify(SECRET, BODY, str(NOW + 301), sign(SECRET, NOW + 301, BODY), now=NOW)


def test_it_rejects_missing_or_malformed_headers():
    signature = sign(SECRET, NOW, BODY)
    assert not verify(SECRET, BODY, None, signature, now=NOW)
    assert not verify(SECRET, BODY, "yesterday", signature, now=NOW)
    assert not verify(SECRET, BODY, str(NOW), None, now=NOW)
    assert not verify(SECRET, BODY, str(NOW), signature.removeprefix("v1="), now=NOW)


@pytest.mark.parametrize(
    "timestamp",
    [" 1750000000 ", "1750000000\n", "17_50000000", "+1750000000", "١٧٥٠٠٠٠٠٠٠", "01750000000", ""],
)
def test_it_rejects_a_timestamp_that_is_not_exactly_the_digits_leadbase_signed(timestamp):
    # int() reads all but the last as NOW, the number the signature below was made for.
    assert not verify(SECRET, BODY, timestamp, sign(SECRET, NOW, BODY), now=NOW)


@pytest.mark.parametrize("signature", ["v1=é", "v1=" + "é" * 64, "\udcff", b"v1=abc", 42])
def test_a_signature_that_is_not_ascii_text_is_false_not_an_error(signature):
    assert verify(SECRET, BODY, str(NOW), signature, now=NOW) is False


def test_a_timestamp_that_is_not_text_is_false_not_an_error():
    signature = sign(SECRET, NOW, BODY)
    assert verify(SECRET, BODY, NOW, signature, now=NOW) is False  # type: ignore[arg-type]


def documented_verify():
    """The ``verify`` of the Python example in docs/webhooks.md, run as a receiver would."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text("utf-8")
    (snippet,) = [s for s in re.findall(r"```python\n(.*?)```", text, re.S) if "def verify" in s]
    namespace: dict = {}
    exec(snippet, namespace)
    return namespace["verify"]


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("fresh", "good"),
        (None, "good"),
        ("fresh", None),
        (None, None),
        ("", "good"),
        ("fresh", ""),
        ("fresh", "v1=é"),
        ("padded", "good"),
        ("underscored", "good"),
        ("old", "good"),
        ("fresh", "bad"),
    ],
)
def test_the_docs_example_agrees_with_the_shipped_verify_and_never_raises(timestamp, signature):
    now = int(time.time())
    at = {
        "fresh": str(now),
        "old": str(now - 301),
        "padded": f" {now} ",
        "underscored": f"{str(now)[:2]}_{str(now)[2:]}",
    }.get(timestamp, timestamp)
    signed = sign(SECRET, now if timestamp != "old" else now - 301, BODY)
    tampered = signed[:-1] + ("1" if signed.endswith("0") else "0")
    sig = {"good": signed, "bad": tampered}.get(signature, signature)

    assert documented_verify()(SECRET, BODY, at, sig) == verify(SECRET, BODY, at, sig)
    assert verify(SECRET, BODY, at, sig) == (timestamp == "fresh" and signature == "good")

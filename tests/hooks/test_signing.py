"""The signature recipe receivers follow (``leadbase.hooks.signing.verify``), replay included."""

from __future__ import annotations

import hashlib
import hmac

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

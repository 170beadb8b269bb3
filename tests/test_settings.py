"""Settings read from the environment refuse values that would silently break the product."""

from __future__ import annotations

import pytest

from leadbase.settings import env_region


@pytest.mark.parametrize("value, code", [("DE", "DE"), ("gb", "GB"), ("", "US")])
def test_the_default_region_is_a_country_code(monkeypatch, value, code):
    monkeypatch.setenv("LEADBASE_DEFAULT_REGION", value)
    assert env_region("LEADBASE_DEFAULT_REGION", "US") == code


@pytest.mark.parametrize("value", ["XX", "Germany", "ZZ", "U"])
def test_a_default_region_without_a_numbering_plan_stops_the_start(monkeypatch, value):
    # Else every phone number written without + would be refused as invalid_phone.
    monkeypatch.setenv("LEADBASE_DEFAULT_REGION", value)
    with pytest.raises(ValueError, match="LEADBASE_DEFAULT_REGION must be a two-letter country"):
        env_region("LEADBASE_DEFAULT_REGION", "US")


@pytest.mark.parametrize(
    "host, domain",
    [("leads.example.com", "leads.example.com"), ("127.0.0.1", "localhost"), ("::1", "localhost"), (None, "localhost")],
)
def test_the_default_sender_has_a_mail_domain_not_an_ip_address(host, domain):
    # leadbase@127.0.0.1 is not a valid address; strict mail servers refuse it as a sender.
    from leadbase.settings import _mail_domain

    assert _mail_domain(host) == domain

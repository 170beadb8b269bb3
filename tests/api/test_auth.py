"""Tokens, scopes, roles and the per-token rate limit."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone

from leadbase.accounts.models import ApiToken, Membership
from leadbase.api.ratelimit import take_request
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

LEAD = {"name": "Ada Lovelace", "email": "ada@example.org"}


def test_it_refuses_a_request_without_a_token(api_as):
    response = api_as("anonymous").get("/leads")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize(
    "header", ["Bearer lb_not-a-token", "Basic dXNlcjpwYXNz", "Bearer ", "lb_x"]
)
def test_it_refuses_an_unknown_token_or_another_scheme(api_as, header):
    response = api_as("anonymous").get("/leads", Authorization=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"  # RFC 9110: a 401 names the scheme to use
    assert response.json()["code"] == "unauthorized"


def test_it_refuses_a_revoked_token(api_as):
    client = api_as("owner")
    ApiToken.objects.update(revoked_at=timezone.now())
    assert client.get("/leads").status_code == 401


def test_it_refuses_the_token_of_a_user_no_longer_in_the_workspace(api_as, personas):
    client = api_as("marketer")
    Membership.objects.filter(user=personas.marketer).delete()
    assert client.get("/leads").status_code == 401


def test_a_read_token_can_read_but_not_write(api_as):
    client = api_as("owner", scope="read")
    assert client.get("/leads").status_code == 200
    response = client.post("/leads", LEAD)
    assert response.status_code == 403
    assert response.json()["code"] == "read_only_token"


def test_a_viewer_token_cannot_change_a_lead(api_as, personas):
    lead = make_lead(personas.workspace)
    response = api_as("viewer").patch(f"/leads/{lead.pk}", {"company": "Acme"})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("persona", ["sales", "viewer"])
def test_only_owners_and_marketers_create_leads_since_a_merge_may_touch_any_lead(api_as, persona):
    response = api_as(persona).post("/leads", LEAD)
    assert response.status_code == 403


def test_a_token_records_when_it_was_last_used_at_most_once_a_minute(api_as):
    client = api_as("owner")
    client.get("/leads")
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    client.get("/leads")
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    client.get("/leads")
    assert ApiToken.objects.get().last_used_at > first


def test_it_answers_429_with_retry_after_once_a_token_used_its_minute(api_as, settings):
    settings.API_RATE_PER_TOKEN = 3
    client = api_as("owner")
    assert [client.get("/leads").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/leads")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    assert api_as("marketer").get("/leads").status_code == 200, "another token has its own budget"


def test_the_rate_limit_starts_over_in_the_next_minute(api_as, settings):
    settings.API_RATE_PER_TOKEN = 2
    api_as("owner")
    token = ApiToken.objects.get()
    minute = timezone.now().replace(second=0, microsecond=0)
    assert take_request(token, minute + timedelta(seconds=1)) is None
    assert take_request(token, minute + timedelta(seconds=2)) is None
    assert take_request(token, minute + timedelta(seconds=45)) == 15
    assert take_request(token, minute + timedelta(seconds=61)) is None


def test_a_limit_of_zero_turns_the_rate_limit_off(api_as, settings):
    settings.API_RATE_PER_TOKEN = 0
    client = api_as("owner")
    assert all(client.get("/leads").status_code == 200 for _ in range(5))


@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: SQLite lets one writer in at a time, so there is no race",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_get_more_than_the_limit(api_as, settings):
    settings.API_RATE_PER_TOKEN = 5
    api_as("owner")
    token = ApiToken.objects.get()
    barrier, waits = threading.Barrier(8), []

    def request() -> None:
        try:
            barrier.wait()
            waits.append(take_request(token))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert waits.count(None) == 5

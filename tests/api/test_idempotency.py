"""Idempotency-Key: a retried POST gets the first answer and writes nothing more."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from leadbase.api import idempotency
from leadbase.api.models import IdempotencyKey
from leadbase.leads.models import Lead, Touch
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}


def test_the_same_key_and_body_twice_make_one_lead_and_the_same_response(owner_api):
    first = owner_api.post("/leads", ADA, **{"Idempotency-Key": "k-1"})
    second = owner_api.post("/leads", ADA, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    assert Touch.objects.count() == 1, "the replay did not even merge"


def test_the_same_body_in_another_key_order_is_the_same_request(owner_api):
    owner_api.post(
        "/leads", {"name": "Ada Lovelace", "email": "ada@example.org"}, **{"Idempotency-Key": "k"}
    )
    again = owner_api.post(
        "/leads", {"email": "ada@example.org", "name": "Ada Lovelace"}, **{"Idempotency-Key": "k"}
    )
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_refused(owner_api):
    owner_api.post("/leads", ADA, **{"Idempotency-Key": "k-1"})
    response = owner_api.post(
        "/leads", {**ADA, "company": "Analytical"}, **{"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Lead.objects.get().company == ""


def test_keys_belong_to_one_token(api_as):
    api_as("owner").post("/leads", ADA, **{"Idempotency-Key": "k-1"})
    response = api_as("marketer").post(
        "/leads", {**ADA, "company": "Analytical"}, **{"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 201
    assert response.json()["outcome"] == "merged"


def test_a_refused_request_does_not_use_up_its_key(owner_api):
    assert (
        owner_api.post("/leads", {"name": "Ada Lovelace"}, **{"Idempotency-Key": "k-1"}).status_code
        == 422
    )
    assert owner_api.post("/leads", ADA, **{"Idempotency-Key": "k-1"}).status_code == 201


def test_a_key_can_be_used_again_after_a_day(owner_api):
    owner_api.post("/leads", ADA, **{"Idempotency-Key": "k-1"})
    IdempotencyKey.objects.update(
        created_at=IdempotencyKey.objects.get().created_at - timedelta(hours=25)
    )
    response = owner_api.post(
        "/leads", {**ADA, "company": "Analytical"}, **{"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Lead.objects.get().company == "Analytical"


def test_a_concurrent_duplicate_that_loses_the_race_rolls_back_and_answers_with_the_winner(
    owner_api, monkeypatch
):
    winner = owner_api.post("/leads", ADA, **{"Idempotency-Key": "k-1"})
    touches = Touch.objects.count()
    # The loser read before the winner committed: its first lookup finds nothing, so it writes,
    # then its key insert hits the unique constraint; its second lookup, after the rollback,
    # finds the winner's key.
    real_find, lookups = idempotency._find, []

    def find_before_the_winner_committed(request, key):
        lookups.append(key)
        return None if len(lookups) == 1 else real_find(request, key)

    monkeypatch.setattr(idempotency, "_find", find_before_the_winner_committed)
    loser = owner_api.post("/leads", ADA, **{"Idempotency-Key": "k-1"})
    assert lookups == ["k-1", "k-1"], "the loser hit the unique constraint and looked again"
    assert loser.status_code == 201
    assert loser.json() == winner.json()
    assert loser["Idempotent-Replayed"] == "true"
    assert Touch.objects.count() == touches, "the loser's merge was rolled back"
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: SQLite lets one writer in at a time, so there is no race to lose",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_write_once(owner_api):
    barrier, answers = threading.Barrier(4), []

    def post() -> None:
        try:
            barrier.wait()
            response = ApiClient(owner_api.secret).post(
                "/leads", ADA, **{"Idempotency-Key": "same"}
            )
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and len(set(answers)) == 1 and answers[0][0] == 201
    assert (Lead.objects.count(), Touch.objects.count(), IdempotencyKey.objects.count()) == (
        1,
        1,
        1,
    )


@pytest.mark.parametrize("key", ["", "kéy", "k\u00a0y", "k" * 201])
def test_an_empty_non_ascii_or_too_long_key_is_refused_saying_what_a_key_is(owner_api, key):
    response = owner_api.post("/leads", ADA, **{"Idempotency-Key": key})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert response.json()["message"] == "An Idempotency-Key is 1 to 200 printable ASCII characters, such as a UUID."
    assert not Lead.objects.exists()


def test_a_key_of_200_characters_is_taken(owner_api):
    response = owner_api.post("/leads", ADA, **{"Idempotency-Key": "k" * 200})
    assert response.status_code == 201


def test_storing_a_key_clears_that_tokens_expired_keys(owner_api):
    old = owner_api.post("/leads", {"name": "Olga Berg", "email": "olga@example.org"}, **{"Idempotency-Key": "k-old"})
    assert old.status_code == 201
    IdempotencyKey.objects.filter(key="k-old").update(created_at=timezone.now() - timedelta(hours=25))
    owner_api.post("/leads", {"name": "Nina Berg", "email": "nina@example.org"}, **{"Idempotency-Key": "k-new"})
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k-new"]

"""Deleting a webhook endpoint: a confirmation page, then a POST that removes it with its
delivery log; owners only; queued retries find nothing to send."""

from __future__ import annotations

import pytest
from django.test import Client

from leadbase.hooks.actions import do_create_endpoint, do_delete_endpoint, do_queue_deliveries
from leadbase.hooks.delivery import attempt_delivery
from leadbase.hooks.errors import WebhookError
from leadbase.hooks.models import Delivery, Endpoint
from leadbase.hooks.queries import endpoints_for_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(personas, queue) -> Endpoint:
    """An endpoint with two queued deliveries (the dummy task queue keeps them unsent)."""
    endpoint = do_create_endpoint(
        personas.workspace, "https://hooks.example.com/a", [], actor=personas.owner
    )
    (target,) = endpoints_for_event(personas.workspace.pk, "lead.created")
    do_queue_deliveries([target], "lead.created", [{"lead": {"id": 1}}, {"lead": {"id": 2}}])
    return endpoint


def test_deleting_an_endpoint_removes_its_delivery_log(personas, endpoint):
    other = do_create_endpoint(personas.workspace, "https://b.example/", [], actor=None)

    assert do_delete_endpoint(endpoint, actor=personas.owner) == 2

    assert list(Endpoint.objects.all()) == [other]
    assert not Delivery.objects.exists()
    with pytest.raises(WebhookError) as twice:
        do_delete_endpoint(endpoint, actor=personas.owner)
    assert twice.value.code == "gone"


def test_a_retry_queued_before_the_delete_sends_nothing(personas, endpoint):
    delivery_ids = list(Delivery.objects.values_list("pk", flat=True))
    do_delete_endpoint(endpoint, actor=None)

    # What the worker runs for each queued attempt: it claims by id, finds no row, sends nothing.
    assert [attempt_delivery(pk, 0) for pk in delivery_ids] == ["skipped", "skipped"]


def test_the_confirmation_page_counts_the_log_and_deletes_nothing(client_as, endpoint):
    response = client_as("owner").get(f"/settings/webhooks/{endpoint.pk}/delete")

    assert response.status_code == 200
    assert b"2 deliveries" in response.content and b"Delete the endpoint" in response.content
    assert Delivery.objects.count() == 2


def test_an_owner_deletes_an_endpoint_after_confirming(client_as, endpoint):
    response = client_as("owner").post(f"/settings/webhooks/{endpoint.pk}/delete", follow=True)

    assert response.redirect_chain == [("/settings/webhooks/", 302)]
    assert b"Endpoint deleted with its 2 logged deliveries." in response.content
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("marketer", 403), ("sales", 403), ("viewer", 403), ("outsider", 404)],
)
def test_only_owners_of_the_workspace_delete_endpoints(client_as, endpoint, persona, status):
    client = client_as(persona)

    assert client.get(f"/settings/webhooks/{endpoint.pk}/delete").status_code == status
    assert client.post(f"/settings/webhooks/{endpoint.pk}/delete").status_code == status
    assert Delivery.objects.filter(endpoint=endpoint).count() == 2


def test_an_unknown_endpoint_is_not_found_and_nothing_changes(client_as, endpoint):
    assert (
        client_as("owner").post(f"/settings/webhooks/{endpoint.pk + 99}/delete").status_code == 404
    )
    assert Endpoint.objects.count() == 1 and Delivery.objects.count() == 2


def test_deleting_needs_a_csrf_token(personas, endpoint):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.owner)

    assert client.post(f"/settings/webhooks/{endpoint.pk}/delete").status_code == 403
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_endpoint_page_offers_delete_to_owners_only(client_as, endpoint):
    url = f"/settings/webhooks/{endpoint.pk}/"
    delete = f"/settings/webhooks/{endpoint.pk}/delete".encode()

    assert delete in client_as("owner").get(url).content
    assert delete not in client_as("marketer").get(url).content

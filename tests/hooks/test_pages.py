"""Webhook pages for every persona, the secret for owners only, forms, htmx and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leadbase.hooks.actions import do_create_endpoint, do_disable_endpoint, do_queue_deliveries
from leadbase.hooks.models import Delivery, DeliveryStatus, Endpoint
from leadbase.hooks.queries import endpoints_for_event, endpoints_for_user

pytestmark = pytest.mark.django_db

PERSONAS = ["owner", "marketer", "sales", "viewer", "outsider", "anonymous"]


@pytest.fixture
def acme(personas, queue):
    """An active endpoint with one delivery, and a disabled endpoint (tasks stay queued)."""
    active = do_create_endpoint(
        personas.workspace, "https://hooks.example.com/a", [], actor=personas.owner
    )
    disabled = do_create_endpoint(
        personas.workspace, "https://hooks.example.com/b", [], actor=personas.owner
    )
    do_disable_endpoint(disabled, actor=personas.owner)
    (target,) = endpoints_for_event(personas.workspace.pk, "lead.created")
    (delivery,) = do_queue_deliveries([target], "lead.created", [{"lead": {"id": 1}}])
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.GAVE_UP, attempts=8, error="HTTP 500"
    )
    return {"active": active, "disabled": disabled, "delivery": delivery}


def expect(*, owner: int, marketer: int, outsider: int) -> dict[str, int]:
    return {
        "owner": owner,
        "marketer": marketer,
        "sales": 403,
        "viewer": 403,
        "outsider": outsider,
        "anonymous": 302,
    }


READ = expect(owner=200, marketer=200, outsider=404)
MANAGE_PAGE = expect(owner=200, marketer=403, outsider=404)
MANAGE_POST = expect(owner=302, marketer=403, outsider=404)

PAGES = [
    ("get", "hooks:list", lambda a: [], expect(owner=200, marketer=200, outsider=200)),
    ("get", "hooks:new", lambda a: [], expect(owner=200, marketer=403, outsider=200)),
    ("get", "hooks:detail", lambda a: [a["active"].pk], READ),
    ("get", "hooks:delivery", lambda a: [a["active"].pk, a["delivery"].pk], READ),
    ("get", "hooks:edit", lambda a: [a["active"].pk], MANAGE_PAGE),
    ("get", "hooks:secret", lambda a: [a["active"].pk], MANAGE_PAGE),
    ("post", "hooks:test", lambda a: [a["active"].pk], MANAGE_POST),
    ("post", "hooks:disable", lambda a: [a["active"].pk], MANAGE_POST),
    ("post", "hooks:enable", lambda a: [a["disabled"].pk], MANAGE_POST),
    ("post", "hooks:rotate", lambda a: [a["active"].pk], MANAGE_POST),
    ("post", "hooks:redeliver", lambda a: [a["active"].pk, a["delivery"].pk], MANAGE_POST),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("method", "name", "args", "statuses"), PAGES, ids=[f"{m} {n}" for m, n, _, _ in PAGES]
)
def test_each_persona_gets_the_webhook_pages_their_role_allows(
    client_as, acme, persona, method, name, args, statuses
):
    response = getattr(client_as(persona), method)(reverse(name, args=args(acme)))
    assert response.status_code == statuses[persona]
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("web:login"))


def test_the_list_shows_each_endpoints_state_and_recent_failures(client_as, acme):
    rows = {
        e.pk: e
        for e in endpoints_for_user(
            client_as("owner").get(reverse("hooks:list")).wsgi_request.membership
        )
    }
    assert rows[acme["active"].pk].recent_failures == 1
    assert rows[acme["disabled"].pk].recent_failures == 0
    page = client_as("marketer").get(reverse("hooks:list")).content.decode()
    assert "https://hooks.example.com/a" in page and "Disabled by Owner." in page
    assert "Add endpoint" not in page


def test_the_secret_is_shown_to_owners_only_and_never_cached(client_as, acme):
    secret = acme["active"].secret
    for page in ("hooks:detail", "hooks:edit"):
        assert (
            secret
            not in client_as("owner").get(reverse(page, args=[acme["active"].pk])).content.decode()
        )
    assert (
        secret
        not in client_as("marketer")
        .get(reverse("hooks:detail", args=[acme["active"].pk]))
        .content.decode()
    )

    response = client_as("owner").get(reverse("hooks:secret", args=[acme["active"].pk]))
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_an_owner_adds_an_endpoint_and_sees_its_secret_next(client_as, personas):
    client = client_as("owner")
    response = client.post(
        reverse("hooks:new"),
        {"url": "https://crm.example.com/in", "events": ["lead.created"]},
        follow=True,
    )
    endpoint = Endpoint.objects.get()
    assert (endpoint.url, endpoint.events, endpoint.workspace) == (
        "https://crm.example.com/in",
        ["lead.created"],
        personas.workspace,
    )
    assert response.redirect_chain == [(reverse("hooks:secret", args=[endpoint.pk]), 302)]
    assert endpoint.secret in response.content.decode()


def test_a_bad_address_is_refused_with_the_reason_next_to_the_field(client_as):
    response = client_as("owner").post(reverse("hooks:new"), {"url": "ftp://example.com/in"})
    assert response.status_code == 400
    assert "http://" in response.content.decode()
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("url", ["not a url", "javascript:alert(1)", "http://", "ftp://example.com/in"])
def test_every_bad_address_gets_the_same_message_saying_what_to_enter(client_as, url):
    response = client_as("owner").post(reverse("hooks:new"), {"url": url})

    assert response.status_code == 400
    assert response.context["form"].errors["url"] == ["Enter a full http:// or https:// address."]
    assert not Endpoint.objects.exists()


def test_an_owner_edits_an_endpoint(client_as, acme):
    endpoint = acme["active"]
    response = client_as("owner").post(
        reverse("hooks:edit", args=[endpoint.pk]),
        {"url": "https://hooks.example.com/new", "events": ["submission.spam"]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events) == ("https://hooks.example.com/new", ["submission.spam"])


def test_the_log_shows_deliveries_and_redeliver_buttons_to_owners_only(client_as, acme):
    url = reverse("hooks:detail", args=[acme["active"].pk])
    owner_page = client_as("owner").get(url).content.decode()
    marketer_page = client_as("marketer").get(url).content.decode()
    for page in (owner_page, marketer_page):
        assert acme["delivery"].event_id in page and "Gave up" in page and "HTTP 500" in page
    assert "Redeliver" in owner_page and "Redeliver" not in marketer_page
    assert "Send test event" in owner_page and "Send test event" not in marketer_page


def test_redeliver_from_the_log_queues_the_delivery_again(
    client_as, acme, queue, django_capture_on_commit_callbacks
):
    delivery = acme["delivery"]
    queue.results.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("owner").post(
            reverse("hooks:redeliver", args=[acme["active"].pk, delivery.pk])
        )
    assert response["Location"] == reverse("hooks:detail", args=[acme["active"].pk])
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING
    assert [r.args for r in queue.results] == [[delivery.pk, 8]]


def test_an_htmx_request_gets_only_the_delivery_log(client_as, acme):
    response = client_as("owner").get(
        reverse("hooks:detail", args=[acme["active"].pk]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.startswith('<div id="deliveries"') and "<html" not in body
    assert acme["delivery"].event_id in body


def test_the_delivery_page_shows_the_payload_sent(client_as, acme):
    response = client_as("marketer").get(
        reverse("hooks:delivery", args=[acme["active"].pk, acme["delivery"].pk])
    )
    assert acme["delivery"].event_id in response.content.decode()
    assert "&quot;lead.created&quot;" in response.content.decode()


def test_an_endpoint_of_another_workspace_is_not_found(client_as, personas):
    theirs = do_create_endpoint(
        personas.other_workspace, "https://other.example.com/", [], actor=personas.outsider
    )
    assert client_as("owner").get(reverse("hooks:detail", args=[theirs.pk])).status_code == 404


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_and_the_log_cost_the_same_queries_for_one_row_or_many(client_as, personas, acme):
    client = client_as("owner")
    endpoint = acme["active"]
    list_url, log_url = reverse("hooks:list"), reverse("hooks:detail", args=[endpoint.pk])
    few = count_queries(client, list_url), count_queries(client, log_url)

    for n in range(5):
        do_create_endpoint(
            personas.workspace, f"https://hooks.example.com/{n}", [], actor=personas.owner
        )
    (target,) = [
        e for e in endpoints_for_event(personas.workspace.pk, "lead.created") if e.pk == endpoint.pk
    ]
    do_queue_deliveries([target], "lead.created", [{"lead": {"id": n}} for n in range(30)])

    assert (count_queries(client, list_url), count_queries(client, log_url)) == few

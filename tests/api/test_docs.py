"""The OpenAPI document and the docs page, which must work without internet access."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import resolve

pytestmark = pytest.mark.django_db


def test_the_openapi_document_lists_the_lead_operations_without_a_token():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert set(paths["/api/v1/leads"]) == {"get", "post"}
    assert set(paths["/api/v1/leads/{lead_id}"]) == {"get", "patch"}
    assert paths["/api/v1/leads"]["post"]["operationId"] == "create_lead"
    assert {
        "/api/v1/forms",
        "/api/v1/submissions",
        "/api/v1/channels",
        "/api/v1/channels/{channel_id}/snapshots",
    } <= set(paths)
    assert any(
        s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values()
    )
    headers = [p["name"] for p in paths["/api/v1/leads"]["post"].get("parameters", [])]
    assert "Idempotency-Key" in headers


def test_the_openapi_document_takes_a_consent_as_its_status_alone_as_the_api_does():
    schemas = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
    consent = schemas["LeadIn"]["properties"]["consents"]["additionalProperties"]
    assert consent == {
        "anyOf": [
            {"type": "string", "enum": ["granted", "pending", "withdrawn"]},
            {"$ref": "#/components/schemas/ConsentIn"},
        ]
    }
    assert "ConsentIn" in schemas


def test_the_docs_page_loads_every_file_from_this_server():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not any(s.startswith(("http:", "https:", "//")) for s in sources)
    for source in sources:
        asset = Client().get(source)
        assert asset.status_code == 200, source
        b"".join(asset.streaming_content)


def test_only_the_swagger_files_are_served_from_the_package():
    assert Client().get("/api/v1/docs/assets/..%2F__init__.py").status_code == 404
    assert Client().get("/api/v1/docs/assets/redoc.standalone.js.map").status_code == 404


def test_the_api_root_points_at_the_document_and_the_docs():
    assert Client().get("/api/v1/").json() == {
        "openapi": "/api/v1/openapi.json",
        "docs": "/api/v1/docs",
    }


@pytest.mark.parametrize(
    "path",
    ["/api/v1/", "/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/assets/swagger-ui.css"],
)
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_documents_answer_another_method_with_a_json_405_not_a_csrf_page(path, method):
    response = getattr(Client(enforce_csrf_checks=True), method)(path)
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/", "/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/assets/swagger-ui.css"],
)
def test_head_on_the_documents_is_get_without_the_body(path):
    get, head = Client().get(path), Client().head(path)
    body = b"".join(get.streaming_content) if get.streaming else get.content
    assert (get.status_code, head.status_code) == (200, 200)
    assert head["Content-Type"] == get["Content-Type"]
    assert int(head["Content-Length"]) == len(body) > 0
    assert (b"".join(head.streaming_content) if head.streaming else head.content) == b""


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/docs/assets/swagger-ui.css"])
def test_head_leaves_the_body_out_itself_whatever_the_server_does(path):
    # Called without the test client, which drops a HEAD answer's body on its own.
    response = resolve(path).func(RequestFactory().head(path), **resolve(path).kwargs)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    assert response.status_code == 200
    assert body == b"" and int(response["Content-Length"]) > 0

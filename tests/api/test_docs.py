"""The OpenAPI document and the docs page, which must work without internet access."""

from __future__ import annotations

import re

import pytest
from django.test import Client

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

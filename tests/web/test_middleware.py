"""A chunked body without Content-Length is refused with 411, before any view reads it."""

from __future__ import annotations

import json

import pytest

from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import Submission
from leadbase.leads.models import Lead

ADA = json.dumps({"name": "Ada Lovelace", "email": "ada@example.org"})
CHUNKED = {"HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": ""}


def test_a_chunked_form_post_gets_411_and_writes_nothing(client, personas):
    load_demo_forms(personas.workspace, personas.owner)

    response = client.post("/f/contact", ADA, content_type="application/json", **CHUNKED)

    assert response.status_code == 411
    assert response.json()["code"] == "length_required"
    assert "Content-Length" in response.json()["error"]
    assert not Lead.objects.exists() and not Submission.objects.exists()


def test_a_chunked_api_call_gets_411_in_the_api_error_shape(client, personas):
    response = client.post("/api/v1/leads", ADA, content_type="application/json", **CHUNKED)

    assert response.status_code == 411
    assert response.json() == {
        "code": "length_required",
        "message": response.json()["message"],
        "detail": [],
    }
    assert not Lead.objects.exists()


@pytest.mark.parametrize("extra", [{"HTTP_TRANSFER_ENCODING": "chunked"}, {}])
def test_a_body_with_its_length_goes_through(client, personas, extra):
    load_demo_forms(personas.workspace, personas.owner)

    response = client.post("/f/contact", ADA, content_type="application/json", **extra)

    assert response.status_code == 200
    assert Lead.objects.get().email_key == "ada@example.org"

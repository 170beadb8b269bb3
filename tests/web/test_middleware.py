"""A chunked body without Content-Length is refused with 411, a Content-Length that is not a
number with 400, before any view reads the body."""

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


@pytest.mark.parametrize(("path", "key"), [("/f/contact", "error"), ("/api/v1/leads", "message")])
def test_a_content_length_that_is_not_a_number_gets_400_and_writes_nothing(client, personas, path, key):
    load_demo_forms(personas.workspace, personas.owner)

    response = client.post(path, ADA, content_type="application/json", CONTENT_LENGTH="abc")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_content_length"
    assert "Content-Length" in response.json()[key]
    assert not Lead.objects.exists() and not Submission.objects.exists()

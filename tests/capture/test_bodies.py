"""Bodies POST /f/<slug> refuses before anything is written: files, however their bytes read,
and more fields than any form has, in every encoding."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import Submission
from leadbase.capture.public import MAX_FIELDS
from leadbase.leads.models import Lead

pytestmark = pytest.mark.django_db

ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}
FILE_REFUSED = {"error": "Files cannot be sent with this form.", "code": "file_not_accepted"}


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


def multipart(parts: list[tuple[str, bytes, str | None]]) -> bytes:
    """A multipart/form-data body with the boundary ``lb``: (name, content, file name or None)."""
    body = b""
    for name, content, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--lb\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + b"--lb--\r\n"


def post_multipart(client, parts, **extra):
    body = multipart(parts)
    return client.generic("POST", "/f/contact", body, "multipart/form-data; boundary=lb", **extra)


def assert_nothing_written() -> None:
    assert not Submission.objects.exists()
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n\x00\x01binary", b"a text file is still a file"],
    ids=["binary", "text"],
)
def test_a_file_is_refused_as_a_file_whatever_its_bytes(client, form, content):
    upload = SimpleUploadedFile("cv.pdf", content, content_type="application/pdf")

    response = client.post("/f/contact", {**ADA, "cv": upload})

    assert (response.status_code, response.json()) == (400, FILE_REFUSED)
    assert_nothing_written()


def test_more_files_than_django_counts_are_refused_as_files(client, form):
    files = [("cv", b"x", f"cv{i}.txt") for i in range(101)]  # DATA_UPLOAD_MAX_NUMBER_FILES + 1

    response = post_multipart(client, [("name", b"Ada", None), *files])

    assert (response.status_code, response.json()) == (400, FILE_REFUSED)
    assert_nothing_written()


def test_a_multipart_field_in_another_encoding_is_refused_not_stored_garbled(client, form):
    latin1 = [("name", b"Ada Lovelace \xe9", None), ("email", b"a@example.org", None)]

    response = post_multipart(client, latin1)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_encoding")
    assert_nothing_written()


def _many(count: int) -> dict[str, str]:
    return {**ADA, **{f"x{i}": "1" for i in range(count - len(ADA))}}


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        ("application/x-www-form-urlencoded", lambda fields: urlencode(fields).encode()),
        ("application/json", lambda fields: json.dumps(fields).encode()),
        (
            "multipart/form-data; boundary=lb",
            lambda fields: multipart([(k, v.encode(), None) for k, v in fields.items()]),
        ),
    ],
    ids=["urlencoded", "json", "multipart"],
)
def test_more_fields_than_max_fields_are_malformed_in_every_encoding_and_write_nothing(
    client, form, content_type, encode
):
    response = client.generic("POST", "/f/contact", encode(_many(MAX_FIELDS + 100)), content_type)

    assert (response.status_code, response.json()["code"]) == (400, "malformed_body")
    assert_nothing_written()


def test_more_multipart_fields_than_django_counts_are_malformed_too(client, form):
    parts = [(f"x{i}", b"", None) for i in range(1001)]  # DATA_UPLOAD_MAX_NUMBER_FIELDS + 1

    response = post_multipart(client, parts)

    assert (response.status_code, response.json()["code"]) == (400, "malformed_body")
    assert_nothing_written()


def test_a_multipart_body_of_max_fields_fields_is_read(client, form):
    fields = {**ADA, **{f"x{i}": "1" for i in range(MAX_FIELDS - len(ADA))}}

    response = post_multipart(client, [(k, v.encode(), None) for k, v in fields.items()])

    assert response.json()["code"] == "unknown_field"  # read, then refused by the form


@pytest.mark.parametrize("depth", [25, 900, 5000], ids=["past-max-depth", "walk", "decoder"])
@pytest.mark.parametrize("opener", ["[", '{"a": '])
def test_json_nested_too_deep_is_refused_with_400_not_a_server_error(client, form, depth, opener):
    closer = "]" if opener == "[" else "}"
    value = opener * depth + "1" + closer * depth
    body = json.dumps(ADA)[:-1] + f', "phone": {value}}}'

    response = client.post("/f/contact", body, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (400, "invalid_json")
    assert_nothing_written()


def test_json_nested_to_max_depth_gets_the_usual_answer(client, form):
    from leadbase.capture.public import MAX_DEPTH

    body = {**ADA, "fax": json.loads("[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH)}

    response = client.post("/f/contact", body, content_type="application/json")

    assert response.status_code == 200  # a filled honeypot: spam, answered as usual
    assert Submission.objects.get().spam_reason == "honeypot"

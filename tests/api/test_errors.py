"""Bad input: a JSON error with a stable code and the field at fault, and nothing written."""

from __future__ import annotations

import base64
import json

import hypothesis
import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from leadbase.leads.models import Lead
from leadbase.leads.queries import encode_cursor
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}


def errors(response) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": "ada@example.org"}, [("name", "invalid_name")]),
        ({"name": "N/A", "email": "ada@example.org"}, [("name", "invalid_name")]),
        (
            {"name": "<script>alert(1)</script>", "email": "ada@example.org"},
            [("name", "markup_not_allowed")],
        ),
        ({"name": "Ada Lovelace", "email": "ada@@example"}, [("email", "invalid_email")]),
        ({"name": "Ada Lovelace", "phone": "12"}, [("phone", "invalid_phone")]),
        ({"name": "Ada Lovelace"}, [("email", "no_contact")]),
        ({**ADA, "emial": "typo@example.org"}, [("emial", "unknown_field")]),
        ({**ADA, "email": 42}, [("email", "string_type")]),
        ({**ADA, "company": "x" * 201}, [("company", "string_too_long")]),
        ({**ADA, "company": "Acme\x00"}, [("company", "invalid_value")]),
        ({**ADA, "custom": {"plan": {"nested": True}}}, None),
        ({**ADA, "custom": ["not", "an", "object"]}, [("custom", "dict_type")]),
        ({**ADA, "consents": {"email_marketing": "maybe"}}, None),
        ({**ADA, "consents": {"telepathy": "granted"}}, None),
    ],
)
def test_each_bad_field_gets_a_422_naming_it_and_nothing_is_written(owner_api, body, expected):
    response = owner_api.post("/leads", body)
    assert response.status_code == 422, response.json()
    assert response["Content-Type"].startswith("application/json")
    found = errors(response)
    if expected is None:
        field = next(iter(k for k in body if k not in ADA))
        assert found and all(f.startswith(field) for f, _ in found), found
    else:
        assert found == expected
    assert all(e["message"] for e in response.json()["detail"])
    assert Lead.objects.count() == 0


def test_a_validation_error_lists_every_field_at_fault(owner_api):
    response = owner_api.post("/leads", {"name": 1, "email": 2, "stage": "won"})
    assert response.json()["code"] == "validation_error"
    assert sorted(errors(response)) == [
        ("email", "string_type"),
        ("name", "string_type"),
        ("stage", "unknown_field"),
    ]


def test_a_lone_surrogate_is_refused_rather_than_stored(owner_api):
    response = owner_api.post("/leads", raw='{"name": "Ada \\ud800", "email": "ada@example.org"}')
    assert response.status_code == 422
    assert errors(response) == [("name", "string_unicode")]


def test_a_field_name_with_a_lone_surrogate_is_called_a_bad_field_name_not_a_bad_body(owner_api):
    response = owner_api.post(
        "/leads", raw='{"name": "Ada Lovelace", "email": "ada@example.org", "\\ud800": "y"}'
    )
    assert response.status_code == 422
    assert errors(response) == [(None, "invalid_field_name")]
    assert "field name" in response.json()["message"]
    assert "JSON object" not in response.json()["message"]
    assert Lead.objects.count() == 0


# --- script tags ---------------------------------------------------------------------------

SCRIPTS = ["<script>alert(1)</script>", "Acme </SCRIPT>", "< script src=//x.test/a.js>"]


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"company": "{}"}, "company"),
        ({"job_title": "{}"}, "job_title"),
        ({"first_name": "{}", "last_name": "Lovelace"}, "first_name"),
        ({"country": "{}"}, "country"),
        ({"utm_source": "{}"}, "utm_source"),
        ({"utm_content": "{}"}, "utm_content"),
        ({"referrer": "https://example.org/?q={}"}, "referrer"),
        ({"custom": {"x": "{}"}}, "custom.x"),
        ({"custom": {"{}": "y"}}, "custom.{}"),
        ({"consents": {"calls": {"status": "granted", "text": "{}"}}}, "consents.calls.text"),
    ],
)
def test_a_script_tag_in_any_field_is_refused_naming_the_field(owner_api, extra, field, script):
    body = ADA | json.loads(json.dumps(extra).replace("{}", script.replace('"', '\\"')))
    response = owner_api.post("/leads", body)
    assert response.status_code == 422, response.json()
    assert errors(response) == [(field.replace("{}", script), "markup_not_allowed")]
    assert response.json()["detail"][0]["message"] == "Script tags are not allowed here."
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("field", ["company", "job_title", "name", "email"])
def test_a_script_tag_in_an_edit_is_refused_and_changes_nothing(owner_api, personas, field):
    lead = make_lead(personas.workspace, company="Engines")
    response = owner_api.patch(f"/leads/{lead.pk}", {field: "<script>x</script>"})
    assert response.status_code == 422
    assert errors(response) == [(field, "markup_not_allowed")]
    lead.refresh_from_db()
    assert lead.company == "Engines"


def test_a_script_tag_as_a_custom_value_in_an_edit_is_refused(owner_api, personas):
    lead = make_lead(personas.workspace)
    response = owner_api.patch(f"/leads/{lead.pk}", {"custom": {"x": "<script>x</script>"}})
    assert errors(response) == [("custom.x", "markup_not_allowed")]


@pytest.mark.parametrize(
    "value", ["a < b", "<b>Acme</b>", "<scripture>", "description: script", "x<scripts"]
)
def test_text_with_other_markup_or_the_word_script_is_taken(owner_api, value):
    response = owner_api.post("/leads", {**ADA, "company": value, "custom": {"note": value}})
    assert response.status_code == 201, response.json()
    assert Lead.objects.get().company == value


def test_a_search_for_a_script_tag_is_refused_naming_q(owner_api):
    response = owner_api.get("/leads", {"q": "<script>"})
    assert response.status_code == 422
    assert errors(response) == [("q", "markup_not_allowed")]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"name": "Ada"', "malformed_json"),
        (b'{"name": NaN, "email": "ada@example.org"}', "malformed_json"),
        (b'{"name": "Ada \xff\xfe", "email": "ada@example.org"}', "invalid_encoding"),
        # nested deeper than the decoder's stack: it got django-ninja's generic "bad_request"
        (b'{"name": "Ada", "custom": {"n": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", "malformed_json"),
    ],
)
def test_a_body_that_is_not_utf8_json_gets_a_400(owner_api, raw, code):
    response = owner_api.post("/leads", raw=raw)
    assert response.status_code == 400
    assert response.json()["code"] == code


@pytest.mark.parametrize("raw", ["[1, 2]", '"Ada"', "null", "3"])
def test_a_body_that_is_not_an_object_gets_a_422(owner_api, raw):
    response = owner_api.post("/leads", raw=raw)
    assert response.status_code == 422
    assert errors(response) == [(None, "invalid_body")]


@pytest.mark.parametrize("path", ["/leads", "/channels"])
def test_an_empty_body_gets_a_422_saying_so_in_the_documented_shape(owner_api, path):
    response = owner_api.post(path, raw="")
    assert response.status_code == 422
    assert errors(response) == [(None, "invalid_body")]
    assert response.json()["message"] == "The body is empty; send a JSON object."
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/json; charset=iso-8859-1",
        "application/json; charset=utf-16",
    ],
)
def test_a_body_that_is_not_json_gets_a_415(owner_api, content_type):
    response = owner_api.post(
        "/leads", raw="name=Ada&email=ada@example.org", content_type=content_type
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_json_body_in_another_charset_gets_a_415_not_a_decoding_error(owner_api):
    # The test client encodes the text in the charset named: José arrives as latin-1 bytes.
    body = '{"name": "José Núñez", "email": "jose@example.org"}'
    response = owner_api.post(
        "/leads", raw=body, content_type="application/json; charset=iso-8859-1"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert "UTF-8" in response.json()["message"]
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/json; charset=UTF-8", "Application/JSON"],
)
def test_utf8_json_is_taken_whatever_the_case_of_its_content_type(owner_api, content_type):
    body = '{"name": "José Núñez", "email": "jose@example.org"}'
    response = owner_api.post("/leads", raw=body, content_type=content_type)
    assert response.status_code == 201, response.json()
    assert Lead.objects.get().name == "José Núñez"


def test_an_oversized_body_gets_a_413(owner_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = owner_api.post("/leads", {**ADA, "custom": {"note": "x" * 1500}})
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert response.json()["message"] == "The body is larger than 1 KB, the most a request may send."
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    huge = owner_api.post("/leads", {**ADA, "name": "x" * 2_700_000})
    assert huge.json()["message"] == "The body is larger than 2.5 MB, the most a request may send."


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 201}, {"stage": "hot"}, {"q": "x" * 201}, {"q": "ada\x00"}]
)
def test_bad_list_parameters_get_a_422_naming_them(owner_api, params):
    response = owner_api.get("/leads", params)
    assert response.status_code == 422
    assert errors(response)[0][0] == next(iter(params))


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage!"},
        {"cursor": encode_cursor(["x"])},
        {"cursor": base64.urlsafe_b64encode(b"[1e400]").decode()},
        {"q": "ada", "cursor": encode_cursor([0, "ada\x00", 1])},
        {"q": "ada", "cursor": base64.urlsafe_b64encode(b'[0, "ada\\ud800", 1]').decode()},
        {"q": "ada", "cursor": encode_cursor(["0", "ada", 1])},
        {"cursor": encode_cursor([2**63])},
        {"cursor": encode_cursor([-(2**63) - 1])},
        {"q": "ada", "cursor": encode_cursor([0, "ada", 2**63])},
        {"q": "ada", "cursor": encode_cursor([2**70, "ada", 1])},
        # Numbers a cursor never holds, which the query would read as an id all the same.
        {"cursor": encode_cursor([1.5])},
        {"cursor": encode_cursor([True])},
        {"cursor": encode_cursor(["5"])},
        {"cursor": encode_cursor([5, 6])},
        {"q": "ada", "cursor": encode_cursor([False, "ada", 1])},
        {"q": "ada", "cursor": encode_cursor([0, "ada", 1.5])},
        # A search's cursor on the plain list, and the list's on a search.
        {"cursor": encode_cursor([0, "ada lovelace", 1])},
        {"q": "ada", "cursor": encode_cursor([1])},
    ],
)
def test_an_edited_cursor_gets_a_422(owner_api, personas, params):
    make_lead(personas.workspace, name="Ada Lovelace")
    response = owner_api.get("/leads", params)
    assert response.status_code == 422
    assert errors(response) == [("cursor", "invalid_cursor")]


@pytest.mark.parametrize(
    "path", ["/leads/0", "/leads/99999999999999999999999", "/leads/abc", "/nope"]
)
def test_an_unknown_path_or_id_is_a_json_404(owner_api, path):
    response = owner_api.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_method_the_path_does_not_take_is_a_json_405(owner_api):
    response = owner_api.client.delete(
        "/api/v1/leads", headers={"Authorization": f"Bearer {owner_api.secret}"}
    )
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD, OPTIONS, POST"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/leads", "GET, HEAD, OPTIONS, POST"),
        ("/api/v1/leads/1", "GET, HEAD, OPTIONS, PATCH"),
        ("/api/v1/channels/1/snapshots", "OPTIONS, POST"),
        ("/api/v1/openapi.json", "GET, HEAD, OPTIONS"),
        ("/api/v1/docs/assets/swagger-ui.css", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_lists_the_methods_of_a_path_without_a_token(path, allow):
    response = Client().options(path)
    assert response.status_code == 204
    assert response["Allow"] == allow
    assert response.content == b""


def test_head_is_answered_like_get_without_the_body(api_as, personas):
    make_lead(personas.workspace)
    client = api_as("owner", scope="read")
    headers = {"Authorization": f"Bearer {client.secret}"}
    get = client.client.get("/api/v1/leads", headers=headers)
    head = client.client.head("/api/v1/leads", headers=headers)
    assert (get.status_code, head.status_code) == (200, 200)
    assert head["Content-Type"] == get["Content-Type"]
    assert int(head["Content-Length"]) == len(get.content) > 0
    assert head.content == b""


def test_head_without_a_token_or_on_a_path_without_get_is_refused_as_get_would_be(api_as):
    anonymous = Client().head("/api/v1/leads")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Bearer"
    client = api_as("owner")
    no_get = client.client.head(
        "/api/v1/channels/1/snapshots", headers={"Authorization": f"Bearer {client.secret}"}
    )
    assert no_get.status_code == 405
    assert no_get["Allow"] == "OPTIONS, POST"


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = st.sampled_from(
    [
        "name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "country",
        "custom",
        "consents",
        "utm_source",
        "referrer",
        "stage",
        "reason",
    ]
)
# Mostly-plausible records, so the bodies get past the schema and into the lead actions.
LEADISH = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["Ada Lovelace", "José Núñez", "李小龙"]) | st.text(max_size=30),
        "email": st.sampled_from(["ada@example.org", "info@example.org", "x@y"])
        | st.text(max_size=30),
    },
    optional={
        "phone": st.sampled_from(["+1 415 555 0132", "030 1234567", "12"]) | st.text(max_size=20),
        "country": st.sampled_from(["DE", "Germany", "ZZ"]) | st.text(max_size=12),
        "company": st.text(max_size=210),
        "custom": st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=3),
        "consents": st.dictionaries(
            st.sampled_from(["email_marketing", "calls", "telepathy"]),
            st.sampled_from(["granted", "pending", "withdrawn"]) | JSON_VALUES,
            max_size=3,
        ),
        "stage": st.sampled_from(["won", "disqualified", "nope"]),
    },
)
BODIES = LEADISH | st.dictionaries(FIELDS | st.text(max_size=12), JSON_VALUES, max_size=6)


@hypothesis.settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES)
def test_random_json_objects_never_cause_a_server_error(owner_api, personas, settings, body):
    settings.API_RATE_PER_TOKEN = 0
    created = owner_api.post("/leads", body)
    assert created.status_code < 500, created.content
    assert created["Content-Type"].startswith("application/json")
    lead = make_lead(personas.workspace)
    updated = owner_api.patch(f"/leads/{lead.pk}", body)
    assert updated.status_code < 500, updated.content


@hypothesis.settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=st.text(max_size=40), cursor=st.none() | st.text(max_size=40))
def test_random_searches_and_cursors_never_cause_a_server_error(owner_api, settings, q, cursor):
    settings.API_RATE_PER_TOKEN = 0
    params = {"q": q} | ({"cursor": cursor} if cursor is not None else {})
    response = owner_api.get("/leads", params)
    assert response.status_code < 500, response.content

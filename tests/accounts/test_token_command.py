"""`leadbase token create`: the token is printed once, only its hash is kept, and it works;
`token list` shows every token by its prefix; `token revoke` turns one off for good."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from leadbase.accounts.models import ApiToken
from leadbase.leads.models import Lead

pytestmark = pytest.mark.django_db

ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}


def create_token(*args: str) -> str:
    """Run the command as `leadbase token create …` would; what it printed."""
    return token("create", *args)


def token(*args: str) -> str:
    """Run `leadbase token …`; what it printed."""
    out = StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def api(secret: str, method: str, body: dict | None = None):
    client, headers = Client(), {"Authorization": f"Bearer {secret}"}
    if method == "GET":
        return client.get("/api/v1/leads", headers=headers)
    return client.post(
        "/api/v1/leads", json.dumps(body), content_type="application/json", headers=headers
    )


def stored_row() -> dict[str, object]:
    """The token's row as the database holds it, every column, read without the ORM."""
    table = connection.ops.quote_name(ApiToken._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        (row,) = cursor.fetchall()
        names = [column[0] for column in cursor.description]
    return dict(zip(names, row))


@pytest.mark.parametrize("scope", ["read", "write"])
def test_it_prints_the_new_token_once_and_stores_only_its_hash(personas, scope):
    out = create_token(
        "--user", "owner@acme.test", "--workspace", "acme", "--scope", scope, "--name", "CRM sync"
    )

    secret = out.strip()
    assert out == secret + "\n"  # the token and nothing else, on one line
    assert secret.startswith("lb_") and len(secret) > 40
    token = ApiToken.objects.get()
    assert (token.workspace, token.user, token.scope, token.name) == (
        personas.workspace,
        personas.owner,
        scope,
        "CRM sync",
    )
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    row = stored_row()
    assert not any(secret in str(value) for value in row.values()), row
    assert token.prefix == secret[:10]  # a short prefix to tell tokens apart, not the token


def test_running_it_again_prints_another_token_and_never_the_first_again(personas):
    first = create_token("--user", "owner@acme.test", "--workspace", "acme").strip()
    second = create_token("--user", "owner@acme.test", "--workspace", "acme").strip()

    assert first != second and first not in second
    assert ApiToken.objects.count() == 2


def test_the_default_scope_is_write(personas):
    create_token("--user", "owner@acme.test", "--workspace", "acme")

    assert ApiToken.objects.get().scope == "write"


def test_the_email_is_matched_whatever_its_case_and_spaces(personas):
    create_token("--user", "  Owner@ACME.test ", "--workspace", "acme")

    assert ApiToken.objects.get().user == personas.owner


def test_a_printed_read_token_can_list_leads_but_not_create_one(personas):
    secret = create_token(
        "--user", "owner@acme.test", "--workspace", "acme", "--scope", "read"
    ).strip()

    listed = api(secret, "GET")
    refused = api(secret, "POST", ADA)

    assert listed.status_code == 200
    assert listed.json()["items"] == []
    assert refused.status_code == 403
    assert refused.json()["code"] == "read_only_token"
    assert not Lead.objects.exists()


def test_a_printed_write_token_creates_a_lead_in_its_workspace_and_reads_it_back(personas):
    secret = create_token("--user", "owner@acme.test", "--workspace", "acme", "--scope", "write")

    created = api(secret.strip(), "POST", ADA)
    listed = api(secret.strip(), "GET")

    assert created.status_code == 201, created.json()
    lead = Lead.objects.get()
    assert (lead.workspace, lead.source, lead.email_key) == (
        personas.workspace,
        "api",
        "ada@example.org",
    )
    assert [item["id"] for item in listed.json()["items"]] == [lead.pk]


def test_a_token_for_the_other_workspace_sees_none_of_acmes_leads(personas):
    acme = create_token("--user", "owner@acme.test", "--workspace", "acme").strip()
    other = create_token("--user", "outsider@other.test", "--workspace", "other").strip()
    api(acme, "POST", ADA)

    assert len(api(acme, "GET").json()["items"]) == 1
    assert api(other, "GET").json()["items"] == []


# --- bad arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "nope"], "There is no workspace “nope”."),
        ([], "several workspaces: name one with --workspace"),
        (["--workspace", "acme", "--scope", "admin"], "invalid choice: 'admin'"),
    ],
)
def test_bad_arguments_are_a_clear_error_and_create_nothing(personas, args, message):
    with pytest.raises(CommandError) as caught:
        create_token("--user", "owner@acme.test", *args)

    assert message in str(caught.value)
    assert not ApiToken.objects.exists()


def test_an_unknown_user_is_a_clear_error_and_creates_nothing(personas):
    with pytest.raises(CommandError, match="There is no user nobody@acme.test"):
        create_token("--user", "nobody@acme.test", "--workspace", "acme")

    assert not ApiToken.objects.exists()


def test_a_user_who_is_not_a_member_of_the_workspace_gets_no_token(personas):
    with pytest.raises(CommandError) as caught:
        create_token("--user", "outsider@other.test", "--workspace", "acme")

    assert str(caught.value) == "outsider@other.test is not a member of the workspace “acme”."
    assert not ApiToken.objects.exists()


def test_the_user_is_required(personas):
    with pytest.raises(CommandError, match="--user"):
        create_token("--workspace", "acme")

    assert not ApiToken.objects.exists()


def test_a_name_longer_than_the_column_is_a_clear_error_and_creates_nothing(personas):
    with pytest.raises(CommandError) as caught:
        create_token("--user", "owner@acme.test", "--workspace", "acme", "--name", "x" * 101)

    assert str(caught.value) == "A token name has at most 100 characters (this one has 101)."
    assert not ApiToken.objects.exists()
    create_token("--user", "owner@acme.test", "--workspace", "acme", "--name", "x" * 100)
    assert ApiToken.objects.get().name == "x" * 100


# --- list -----------------------------------------------------------------------------------


def test_list_shows_every_token_by_its_prefix_and_never_the_token(personas):
    crm = create_token(
        "--user", "owner@acme.test", "--workspace", "acme", "--scope", "read", "--name", "CRM sync"
    ).strip()
    other = create_token("--user", "outsider@other.test", "--workspace", "other").strip()
    api(crm, "GET")

    lines = token("list").splitlines()

    assert lines[0].split() == [
        "id", "prefix", "name", "workspace", "user", "scope", "created", "last", "used", "revoked"
    ]
    assert len(lines) == 3
    acme, theirs = ApiToken.objects.get(workspace__slug="acme"), ApiToken.objects.get(
        workspace__slug="other"
    )
    row = lines[1].split()
    assert row[:6] == [str(acme.pk), crm[:10], "CRM", "sync", "acme", "owner@acme.test"]
    assert row[6] == "read"
    assert timezone.now().strftime("%Y-%m-%d") in lines[1]
    assert lines[1].rstrip().endswith("UTC  -"), "used just now, not revoked"
    assert lines[2].split()[:3] == [str(theirs.pk), other[:10], "-"]
    assert "never" in lines[2]
    text = "\n".join(lines)
    assert crm not in text and other not in text


def test_list_can_keep_to_one_workspace_and_says_when_there_is_none(personas):
    assert token("list") == "No API tokens.\n"
    create_token("--user", "outsider@other.test", "--workspace", "other")

    assert token("list", "--workspace", "acme") == "No API tokens.\n"
    assert len(token("list", "--workspace", "other").splitlines()) == 2
    with pytest.raises(CommandError, match="There is no workspace “nope”."):
        token("list", "--workspace", "nope")


# --- revoke ---------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["prefix", "id", "token"])
def test_a_revoked_token_gets_401_from_then_on(personas, by):
    secret = create_token("--user", "owner@acme.test", "--workspace", "acme", "--name", "CRM").strip()
    kept = create_token("--user", "owner@acme.test", "--workspace", "acme").strip()
    assert api(secret, "GET").status_code == 200
    target = ApiToken.objects.get(prefix=secret[:10])
    given = {"prefix": secret[:10], "id": str(target.pk), "token": secret}[by]

    out = token("revoke", given)

    assert out == f"Revoked token {secret[:10]}… (CRM) of workspace “acme”.\n"
    refused = api(secret, "GET")
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthorized"
    assert api(kept, "GET").status_code == 200, "only that token is revoked"
    target.refresh_from_db()
    assert target.revoked_at is not None
    assert target.revoked_at.strftime("%Y-%m-%d %H:%M UTC") in token("list")


def test_revoking_a_revoked_token_again_changes_nothing_and_says_so(personas):
    secret = create_token("--user", "owner@acme.test", "--workspace", "acme").strip()
    token("revoke", secret[:10])
    first = ApiToken.objects.get().revoked_at

    out = token("revoke", secret[:10])

    assert out == (
        f"Token {secret[:10]}… was already revoked on {first:%Y-%m-%d %H:%M} UTC; nothing changed.\n"
    )
    assert ApiToken.objects.get().revoked_at == first


@pytest.mark.parametrize("given", ["lb_nope123", "999", "lb_" + "x" * 40])
def test_revoking_an_unknown_token_is_a_clear_error(personas, given):
    create_token("--user", "owner@acme.test", "--workspace", "acme")

    with pytest.raises(CommandError) as caught:
        token("revoke", given)

    assert str(caught.value) == f"There is no API token “{given}”; `leadbase token list` shows them."
    assert ApiToken.objects.get().revoked_at is None


def test_two_tokens_with_one_prefix_are_revoked_by_id(personas):
    create_token("--user", "owner@acme.test", "--workspace", "acme")
    create_token("--user", "owner@acme.test", "--workspace", "acme")
    ApiToken.objects.update(prefix="lb_same123")
    first, second = ApiToken.objects.order_by("pk")

    with pytest.raises(CommandError) as caught:
        token("revoke", "lb_same123")

    assert str(caught.value) == (
        f"Several tokens have the prefix “lb_same123” (ids {first.pk}, {second.pk}): "
        "revoke one by its id."
    )
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
    token("revoke", str(second.pk))
    assert list(ApiToken.objects.filter(revoked_at__isnull=False)) == [second]


def test_revoke_needs_a_token(personas):
    with pytest.raises(CommandError, match="token"):
        token("revoke")

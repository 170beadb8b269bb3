"""`leadbase createuser`: where the password comes from, the membership it makes, and refusals
that leave nothing behind (docs/cli.md)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from leadbase.accounts.management.commands import createuser
from leadbase.accounts.models import Membership, Role, User, Workspace

pytestmark = pytest.mark.django_db

PASSWORD = "plenty of entropy here"


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch):
    """Run as cron or a deploy script would: no password in the environment, no terminal to
    prompt on (whatever the terminal pytest itself was started from)."""
    monkeypatch.delenv("LEADBASE_PASSWORD", raising=False)
    monkeypatch.setattr(createuser.os, "isatty", lambda fd: False)


def run(*args: str, **options) -> str:
    out = io.StringIO()
    call_command("createuser", *args, stdout=out, **options)
    return out.getvalue()


def logs_in(email: str, password: str) -> bool:
    client = Client()
    response = client.post(reverse("web:login"), {"username": email, "password": password})
    return response.status_code == 302 and client.get(reverse("web:home")).status_code == 200


def nothing_was_created() -> bool:
    return (
        not User.objects.exists()
        and not Workspace.objects.exists()
        and not Membership.objects.exists()
    )


def test_it_creates_a_member_with_the_given_role_who_can_log_in():
    out = run(
        "Ada@Example.org", "--workspace", "newco", "--role", "marketer", "--password", PASSWORD,
        "--name", "Ada Lovelace",
    )

    user = User.objects.get()
    assert user.email == "ada@example.org"
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    membership = Membership.objects.get(user=user)
    assert membership.workspace.slug == "newco" and membership.role == Role.MARKETER
    assert "ada@example.org is marketer of workspace" in out and "newco" in out
    assert logs_in("ada@example.org", PASSWORD)
    assert not logs_in("ada@example.org", PASSWORD + "x")


def test_without_options_the_user_owns_the_default_workspace():
    run("ada@example.org", "--password", PASSWORD)
    membership = Membership.objects.get()
    assert (membership.workspace.slug, membership.role) == ("default", Role.OWNER)


def test_the_password_can_come_from_leadbase_password(monkeypatch):
    monkeypatch.setenv("LEADBASE_PASSWORD", PASSWORD)
    run("ada@example.org", "--workspace", "newco")
    assert logs_in("ada@example.org", PASSWORD)


def test_the_password_option_wins_over_leadbase_password(monkeypatch):
    monkeypatch.setenv("LEADBASE_PASSWORD", "the one from the environment")
    run("ada@example.org", "--workspace", "newco", "--password", PASSWORD)
    assert logs_in("ada@example.org", PASSWORD)
    assert not logs_in("ada@example.org", "the one from the environment")


def test_on_a_terminal_without_a_password_it_prompts_for_one(monkeypatch):
    monkeypatch.setattr(createuser.os, "isatty", lambda fd: fd == 0)
    prompts = []
    monkeypatch.setattr(
        createuser.getpass, "getpass", lambda prompt: prompts.append(prompt) or PASSWORD
    )
    run("ada@example.org", "--workspace", "newco")
    assert prompts == ["Password: "]
    assert logs_in("ada@example.org", PASSWORD)


def test_running_it_again_adds_the_user_to_another_workspace_and_resets_the_password():
    run("ada@example.org", "--workspace", "first", "--password", PASSWORD)
    run(
        "ada@example.org", "--workspace", "second", "--role", "viewer",
        "--password", "a second passphrase",
    )

    user = User.objects.get()
    assert dict(user.memberships.values_list("workspace__slug", "role")) == {
        "first": Role.OWNER, "second": Role.VIEWER}
    assert logs_in("ada@example.org", "a second passphrase")
    assert not logs_in("ada@example.org", PASSWORD)


def test_without_a_password_and_no_terminal_it_says_where_to_give_one_and_creates_nothing():
    with pytest.raises(CommandError, match="No password: use --password or LEADBASE_PASSWORD"):
        run("ada@example.org", "--workspace", "newco")
    assert nothing_was_created()


def test_an_empty_leadbase_password_counts_as_none(monkeypatch):
    monkeypatch.setenv("LEADBASE_PASSWORD", "")
    with pytest.raises(CommandError, match="No password"):
        run("ada@example.org", "--workspace", "newco")
    assert nothing_was_created()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 8 characters"),
        ("1234567", "at least 8 characters"),
        # Eight characters, but refused by the password policy the project configures
        # (AUTH_PASSWORD_VALIDATORS: CommonPasswordValidator), as the password-change page does.
        ("password", "common"),
        ("12345678", "common"),
    ],
)
def test_a_weak_password_is_refused_and_creates_nothing(password, message):
    with pytest.raises(CommandError, match=message):
        run("ada@example.org", "--workspace", "newco", "--password", password)
    assert nothing_was_created()


@pytest.mark.parametrize(
    "args",
    [
        ("--role", "boss"),  # as typed on the command line: argparse knows the choices
        (),  # given as an option value (``role="boss"``, below): the action checks it
    ],
)
def test_an_invalid_role_is_refused_with_the_valid_ones_and_creates_nothing(args):
    options = {} if args else {"role": "boss"}
    with pytest.raises(CommandError) as raised:
        run("ada@example.org", "--workspace", "newco", "--password", PASSWORD, *args, **options)
    message = str(raised.value)
    assert "boss" in message
    assert all(role in message for role in Role.values)
    assert nothing_was_created()


@pytest.mark.parametrize("email", ["not-an-email", "ada.example.org", "ada@", "@example.org"])
def test_an_invalid_email_is_refused_and_creates_nothing(email):
    with pytest.raises(CommandError, match="not an email address"):
        run(email, "--workspace", "newco", "--password", PASSWORD)
    assert nothing_was_created()


def test_a_refusal_for_an_existing_user_leaves_their_password_and_memberships_alone():
    run("ada@example.org", "--workspace", "first", "--password", PASSWORD)
    with pytest.raises(CommandError, match="at least 8 characters"):
        run("ada@example.org", "--workspace", "second", "--password", "short")
    assert list(Membership.objects.values_list("workspace__slug", flat=True)) == ["first"]
    assert not Workspace.objects.filter(slug="second").exists()
    assert logs_in("ada@example.org", PASSWORD)

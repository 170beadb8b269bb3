"""Settings read from the environment refuse values that would silently break the product."""

from __future__ import annotations

import pytest

from leadbase.settings import env_region


@pytest.mark.parametrize("value, code", [("DE", "DE"), ("gb", "GB"), ("", "US")])
def test_the_default_region_is_a_country_code(monkeypatch, value, code):
    monkeypatch.setenv("LEADBASE_DEFAULT_REGION", value)
    assert env_region("LEADBASE_DEFAULT_REGION", "US") == code


@pytest.mark.parametrize("value", ["XX", "Germany", "ZZ", "U"])
def test_a_default_region_without_a_numbering_plan_stops_the_start(monkeypatch, value):
    # Else every phone number written without + would be refused as invalid_phone.
    monkeypatch.setenv("LEADBASE_DEFAULT_REGION", value)
    with pytest.raises(ValueError, match="LEADBASE_DEFAULT_REGION must be a two-letter country"):
        env_region("LEADBASE_DEFAULT_REGION", "US")


@pytest.mark.parametrize(
    "host, domain",
    [("leads.example.com", "leads.example.com"), ("127.0.0.1", "localhost"), ("::1", "localhost"), (None, "localhost")],
)
def test_the_default_sender_has_a_mail_domain_not_an_ip_address(host, domain):
    # leadbase@127.0.0.1 is not a valid address; strict mail servers refuse it as a sender.
    from leadbase.settings import _mail_domain

    assert _mail_domain(host) == domain


def test_a_count_below_its_minimum_is_refused(monkeypatch):
    from leadbase.settings import env_int

    monkeypatch.setenv("LEADBASE_FORM_MAX_BODY_KB", "-1")  # every form post answered 413 "larger than -1 KB"
    with pytest.raises(ValueError, match="LEADBASE_FORM_MAX_BODY_KB must be at least 1, not -1"):
        env_int("LEADBASE_FORM_MAX_BODY_KB", 64, minimum=1)
    monkeypatch.setenv("LEADBASE_FORM_MAX_BODY_KB", "0")
    assert env_int("LEADBASE_FORM_MAX_BODY_KB", 64) == 0  # where 0 means something (a limit off)


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("LEADBASE_DEFAULT_REGION", "XX", "LEADBASE_DEFAULT_REGION must be a two-letter country code"),
        ("LEADBASE_FORM_RATE_PER_IP", "abc", "LEADBASE_FORM_RATE_PER_IP must be a whole number, not 'abc'"),
        ("LEADBASE_CONFIRM_LINK_HOURS", "-5", "LEADBASE_CONFIRM_LINK_HOURS must be at least 1, not -5"),
        ("LEADBASE_BEHIND_PROXY", "maybe", "LEADBASE_BEHIND_PROXY must be true or false"),
        ("EMAIL_URL", "foo://bar", "EMAIL_URL must start with smtp://"),
        ("DATABASE_URL", "mysqlx://foo", "DATABASE_URL must start with sqlite:// or postgres://, not 'mysqlx://foo'"),
        # a scheme dj-database-url knows and Leadbase does not run on: a traceback (no MySQLdb)
        ("DATABASE_URL", "mysql://u:secret@127.0.0.1/x", "DATABASE_URL must start with sqlite:// or postgres://, not 'mysql://u:***@127.0.0.1/x'"),
        # taken, and every confirmation email failed for good while it was set
        ("LEADBASE_FROM_EMAIL", "Acme <bad@>", "LEADBASE_FROM_EMAIL must be an email address"),
        ("LEADBASE_FROM_EMAIL", "notanemail", "LEADBASE_FROM_EMAIL must be an email address"),
        # the password was printed in the message, into the service's logs
        ("EMAIL_URL", "smpt://me:Sup3rS3cret@mail.example.com", "EMAIL_URL must start with smtp://, smtps://, smtp+tls:// or console://, not 'smpt://me:***@mail.example.com'"),
        ("EMAIL_URL", "smtp://me:pa#ss@mail.example.com", "EMAIL_URL has a port that is not a number from 0 to 65535: 'smtp://me:***@mail.example.com' (a #, / or ? in a user name or password must be written %23"),
        ("EMAIL_URL", "smtp://", "EMAIL_URL names no mail server"),  # fell back to 127.0.0.1:25 silently
        ("LEADBASE_BASE_URL", "https://leads.example.com/sub", "LEADBASE_BASE_URL must be an address without a path"),
        ("LEADBASE_CONFIRM_LINK_HOURS", "99999999999999", "LEADBASE_CONFIRM_LINK_HOURS must be at most 8760"),
        ("REDIS_URL", "http://bad", "REDIS_URL must start with redis://"),
        # a port urllib cannot read: a traceback of 33 to 44 lines, or taken without a word
        ("EMAIL_URL", "smtp://mail.example.com:notaport", "EMAIL_URL has a port that is not a number"),
        ("REDIS_URL", "redis://127.0.0.1:abc/0", "REDIS_URL has a port that is not a number"),
        ("LEADBASE_BASE_URL", "http://leads.example.com:abc", "LEADBASE_BASE_URL has a port that is not a number"),
        ("LEADBASE_LOG_LEVEL", "LOUD", "LEADBASE_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        ("LEADBASE_TIME_ZONE", "Mars/Base", "LEADBASE_TIME_ZONE must be a time zone name"),
        ("LEADBASE_SECRET_KEY_FILE", "/nonexistent/key", "LEADBASE_SECRET_KEY_FILE names /nonexistent/key, which cannot be read"),
        ("LEADBASE_BASE_URL", "example.com", "LEADBASE_BASE_URL must be an address starting with http:// or https://"),
        ("LEADBASE_DATA_DIR", "/etc/passwd/data", "LEADBASE_DATA_DIR (/etc/passwd/data) cannot be used"),
        # were refused by serve alone, as a "CommandError:"; a huge one was a granian traceback
        ("LEADBASE_WEB_WORKERS", "0", "LEADBASE_WEB_WORKERS must be at least 1, not 0"),
        ("LEADBASE_WEB_THREADS", "many", "LEADBASE_WEB_THREADS must be a whole number, not 'many'"),
        ("LEADBASE_WEB_WORKERS", "99999999999999999999", "LEADBASE_WEB_WORKERS must be at most 512"),
        ("LEADBASE_WEB_THREADS", "5000", "LEADBASE_WEB_THREADS must be at most 1024"),
    ],
)
def test_a_bad_setting_stops_the_command_with_one_line_naming_it(tmp_path, variable, value, said):
    # It was a Python traceback of 19 to 78 lines, some not naming the variable at all.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"LEADBASE_DATA_DIR": str(tmp_path), variable: value})
    done = subprocess.run([sys.executable, "-m", "leadbase", "createuser", "--help"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith(f"leadbase: {said}") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_database_stops_the_command_with_one_line(tmp_path):
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(LEADBASE_DATA_DIR=str(tmp_path), DATABASE_URL=f"postgres://nobody@127.0.0.1:{port}/x")
    done = subprocess.run([sys.executable, "-m", "leadbase", "createuser", "a@example.org", "--password", "long-pass-123"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("leadbase: the database (DATABASE_URL) cannot be reached: ") and "Traceback" not in done.stderr


def test_version_is_leadbases_own():
    # It printed "5.2.19", which is Django's.
    import subprocess
    import sys
    from importlib.metadata import version

    done = subprocess.run([sys.executable, "-m", "leadbase", "--version"], capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith(f"leadbase {version('leadbase')} (Django ")


def test_the_mail_server_s_user_and_password_are_read_percent_decoded(monkeypatch):
    # "us%40er" was sent as it is: the mail server refused the login.
    from leadbase.settings import _email

    config = _email("smtp+tls://us%40er:p%40ss%2Fw%23@mail.example.com:587")
    assert (config["EMAIL_HOST_USER"], config["EMAIL_HOST_PASSWORD"]) == ("us@er", "p@ss/w#")
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"], config["EMAIL_USE_TLS"]) == ("mail.example.com", 587, True)


@pytest.mark.parametrize("variable", ["LEADBASE_ALLOWED_HOSTS", "DATABASE_URL", "LEADBASE_FROM_EMAIL"])
def test_a_setting_set_empty_is_its_default(tmp_path, variable):
    """``VAR=`` in an env file: an empty host list made every request a 400."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"LEADBASE_DATA_DIR": str(tmp_path), variable: ""})
    code = ("from django.conf import settings as s; "
            "print(s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'], s.DEFAULT_FROM_EMAIL)")
    done = subprocess.run([sys.executable, "-m", "leadbase", "shell", "-c", code], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.strip().splitlines()[-1]  # after the shell's "N objects imported"
    assert printed.split()[:2] == ["['*']", "leadbase.sqlite_backend"]
    assert printed.endswith("<leadbase@localhost>")


def test_a_password_in_an_address_is_not_shown():
    from leadbase.settings_errors import shown

    assert shown("redis://default:Sup3rS3cret@127.0.0.1:6399/0") == "redis://default:***@127.0.0.1:6399/0"
    assert shown("smtp://me:pa#ss/w@mail.example.com") == "smtp://me:***@mail.example.com"
    assert shown("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"

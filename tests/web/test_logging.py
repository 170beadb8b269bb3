"""The default logging: a refused request is one line, a server error keeps its traceback."""

from __future__ import annotations

import logging

import pytest

from leadbase.hooks.actions import do_create_endpoint
from leadbase.logs import NoTracebackBelow500


@pytest.mark.django_db
def test_a_403_is_logged_as_one_line_without_a_traceback(client_as, personas, caplog):
    endpoint = do_create_endpoint(personas.workspace, "https://example.com/hook", [], actor=None)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_as("marketer").get(f"/settings/webhooks/{endpoint.pk}/secret")

    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage().startswith("Forbidden") and record.exc_info is None


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("broken")
    except RuntimeError as exc:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), (type(exc), exc, exc.__traceback__))
    record.status_code = 500

    assert NoTracebackBelow500().filter(record) and record.exc_info is not None


def test_a_request_for_another_host_name_is_one_line(settings, caplog):
    """A scanner trying the machine's IP address made Django log ERROR and a traceback of
    some twenty lines for each request: the console handler drops it, for every logger."""
    from django.test import Client

    settings.ALLOWED_HOSTS = ["leads.example.com"]
    with caplog.at_level(logging.ERROR, logger="django.security.DisallowedHost"):
        response = Client().get("/login", HTTP_HOST="203.0.113.9")

    [record] = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert response.status_code == 400 and record.status_code == 400
    assert "Invalid HTTP_HOST header: '203.0.113.9'" in record.getMessage()
    # Django attaches the exception; the console handler, which every logger's records reach,
    # has dropped it by the time the record is captured.
    assert record.exc_info is None and record.exc_text is None

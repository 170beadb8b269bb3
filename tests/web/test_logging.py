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

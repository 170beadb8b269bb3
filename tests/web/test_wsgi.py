"""leadbase.wsgi: public capture requests take a shorter middleware chain and get the same answers."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from urllib.parse import urlencode

import pytest
from django.core.handlers.wsgi import WSGIHandler

from leadbase import wsgi
from leadbase.capture.channels import LinkSpec, do_create_channel, do_create_link
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import LandingPage
from leadbase.leads.models import Lead


def call(app, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[str, list, bytes]:
    """One request through a WSGI application, as the web server makes it: status, headers, body."""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.9", "HTTP_HOST": "127.0.0.1:8000", "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        **{"HTTP_" + name.upper(): value for name, value in headers.items()},
    }
    if "HTTP_CONTENT_TYPE" in environ:
        environ["CONTENT_TYPE"] = environ.pop("HTTP_CONTENT_TYPE")
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer.update(status=status, headers=sorted(response_headers))

    chunks = app(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        chunks.close()
    return answer["status"], answer["headers"], content


def requests(n: int) -> list[tuple[str, str, bytes, dict[str, str]]]:
    """Public capture requests of each kind; ``n`` makes their people distinct."""
    person = {"name": f"Ada Lovelace{'x' * n}", "email": f"ada{n}@example.org", "consent_email_marketing": "on"}
    return [
        ("POST", "/f/contact", json.dumps(person).encode(),
         {"content_type": "application/json", "accept": "application/json", "origin": "https://acme.example"}),
        ("POST", "/f/contact", urlencode({**person, "email": f"ada.form{n}@example.org"}).encode(),
         {"content_type": "application/x-www-form-urlencoded"}),
        ("POST", "/f/contact", json.dumps({"name": "No Email"}).encode(),
         {"content_type": "application/json", "accept": "application/json"}),
        ("POST", "/f/contact", b"{not json", {"content_type": "application/json", "accept": "application/json"}),
        ("POST", "/f/missing", b"{}", {"content_type": "application/json", "accept": "application/json"}),
        ("OPTIONS", "/f/contact", b"", {"origin": "https://acme.example", "access_control_request_method": "POST"}),
        ("GET", "/f/contact", b"", {}),
        ("GET", "/f/contact.json", b"", {}),
        ("GET", "/f/contact/embed.js", b"", {}),
        ("GET", "/r/spring", b"", {"user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36"}),
        ("GET", "/r/nothing-here", b"", {}),
    ]


def same(answer: tuple[str, list, bytes]) -> tuple[str, list, bytes]:
    """The answer without the form's fill-time token, signed anew for each page (form and JSON),
    without the address the thank-you note names (each chain posts its own person), and with
    the time an ``Expires`` header names left out (the two calls may fall in two seconds)."""
    status, headers, content = answer
    headers = [(name, "(a time)" if name == "Expires" else value) for name, value in headers]
    content = re.sub(rb"Check your inbox at [^:]+:", b"Check your inbox at (address):", content)
    return status, headers, re.sub(rb'(name="lb_ts" value=|"token": )"[^"]*"', rb"\1", content)


@pytest.mark.django_db(transaction=True)  # the handlers close the request's connection, as in production
def test_public_requests_get_from_the_short_chain_what_the_whole_app_answers(personas, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "imports"]}}
    form = load_demo_forms(personas.workspace, personas.owner)
    form.allowed_origins = ["https://acme.example"]
    form.save()
    channel = do_create_channel(personas.workspace, platform="instagram", handle="acme", actor=None)
    page = LandingPage.objects.get(form=form)
    do_create_link(personas.workspace, LinkSpec(channel=channel, page=page), code="spring", actor=None)
    whole = WSGIHandler()

    for n, (method, path, body, headers) in enumerate(requests(1)):
        short = call(wsgi.application, method, path, body, **headers)
        _, _, other_body, other_headers = requests(2)[n]
        full = call(whole, method, path, other_body, **other_headers)
        assert same(short) == same(full), (method, path)
    assert short[0].startswith("404")  # the last, an unknown link, as every case ran

    made = set(Lead.objects.values_list("email_key", flat=True))
    assert {"ada1@example.org", "ada.form1@example.org", "ada2@example.org", "ada.form2@example.org"} <= made


def test_the_short_chain_is_the_apps_without_the_signed_in_parts(settings):
    chain = [m for m in settings.MIDDLEWARE if m not in wsgi.APP_ONLY]
    assert len(chain) == len(settings.MIDDLEWARE) - len(wsgi.APP_ONLY)  # each one named is in the app's
    assert "django.middleware.security.SecurityMiddleware" in chain
    before = list(settings.MIDDLEWARE)
    handler = wsgi.PublicHandler()
    assert handler._view_middleware == []  # the app's only one is the CSRF check
    assert settings.MIDDLEWARE == before  # the setting is put back once the chain is built


def test_the_application_loads_every_view_when_the_process_starts_not_in_its_first_request(tmp_path):
    # In a fresh interpreter: this one has imported the views already.
    wanted = ["leadbase.urls", "leadbase.api.urls", "leadbase.capture.views_forms"]
    script = f"import sys, leadbase.wsgi; print(sorted(set({wanted!r}) - set(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "LEADBASE_DATA_DIR": str(tmp_path)}, capture_output=True, text=True, check=True,
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr


def test_what_the_start_made_is_out_of_the_garbage_collectors_walks(tmp_path):
    """A full collection stops the process's every thread, maybe one holding SQLite's write
    lock: it looks only at what requests made, not at the tens of thousands of objects of the
    start (Django, the views, the URL configuration)."""
    script = (
        "import gc, time, leadbase.wsgi\n"
        "frozen = gc.get_freeze_count()\n"
        "start = time.perf_counter(); gc.collect(); took = time.perf_counter() - start\n"
        "gc.unfreeze(); start = time.perf_counter(); gc.collect(); unfrozen = time.perf_counter() - start\n"
        "print(frozen, took < unfrozen)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "LEADBASE_DATA_DIR": str(tmp_path)}, capture_output=True, text=True, check=True,
    )
    frozen, faster = done.stdout.split()
    assert int(frozen) > 20_000, done.stdout
    assert faster == "True"

"""WSGI entry point for the web server (granian, started by `leadbase serve`).

Public capture traffic, ``/f/…`` (form posts, embed scripts, form definitions) and ``/r/…``
(tracked links), goes through a second Django handler whose middleware leaves out what only the
signed-in app uses: static files, sessions, CSRF checks (the public views are exempt),
authentication and messages. Those five ran on every form post and changed nothing in its
answer; without them a post's request costs 13 % fewer instructions (callgrind, the view's
write left out). Everything else, security headers included, runs as for any request.

granian puts the process's environment variables into every request's environ, as CGI does, so
``request.META`` holds them too (``DATABASE_URL``, ``LEADBASE_SECRET_KEY``). Nothing may show or
store ``request.META`` whole: Leadbase reads only headers, ``CONTENT_LENGTH`` and
``REMOTE_ADDR`` from it, sends no error reports by email (no ``ADMINS``) and shows Django's
debug page only with ``LEADBASE_DEBUG``, which is for development.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable
from typing import Any

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbase.settings")

PUBLIC_PREFIXES = ("/f/", "/r/")
APP_ONLY = frozenset({
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files are under /static/
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
})


class PublicHandler(WSGIHandler):
    """A handler with ``settings.MIDDLEWARE`` less ``APP_ONLY``, for ``PUBLIC_PREFIXES``."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from the setting; it is swapped only while the chain is built,
        # once, when the process starts.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = [name for name in full if name not in APP_ONLY]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def get_application() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    django.setup(set_prefix=False)
    app, public = WSGIHandler(), PublicHandler()
    # Load the URL configuration, and with it every view and the API, now rather than in the
    # first request, which otherwise waits about a second for it after every start.
    get_resolver().url_patterns  # noqa: B018 (loaded for its side effect)
    # What the start made lives as long as the process: out of the garbage collector's sight, a
    # full collection (which stops every thread of the process, maybe one holding SQLite's
    # write lock) looks only at what requests made since. It walked the 90,000 objects of the
    # start each time: 40-120 ms under the form benchmark, where the posts' p99 is 50 ms.
    gc.collect()  # (not to freeze the start's garbage with it)
    gc.freeze()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = public if environ.get("PATH_INFO", "").startswith(PUBLIC_PREFIXES) else app
        return handler(environ, start_response)

    return application


application = get_application()

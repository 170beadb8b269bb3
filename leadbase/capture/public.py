"""Public routes (no login): landing pages, form submission, the embed script (the double
opt-in link's pages are ``leadbase.capture.confirm_pages``).

``POST /f/<slug>`` is cross-origin by design (the embed script and plain HTML forms on the
business's own site post to it), so it is ``csrf_exempt``; it sets no cookie and reads none.
It is guarded instead by the origin rule (a browser's ``Origin`` must be this site or one of
the form's allowed origins: 403 otherwise), CORS headers only for those origins, and the spam
checks of ``leadbase.capture.spam``.

Answers follow the client: JSON for ``application/json`` bodies and clients that do not ask
for HTML (fetch, curl); pages for browsers posting a plain form. Errors are
``{"error": message, "code": code, "field": field}`` with 400, 403, 404, 413, 415 or 429.
"""

from __future__ import annotations

import html
import ipaddress
import json
import math
import re
from collections.abc import Callable
from functools import cache, wraps
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.db import connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.views.decorators.csrf import csrf_exempt

from leadbase.accounts.models import Workspace
from leadbase.capture import spam
from leadbase.capture.actions import (
    NO_ORIGIN,
    UTM_KEYS,
    SubmitMeta,
    SubmitResult,
    clean_origin,
    is_checked,
)
from leadbase.capture.channels import with_query
from leadbase.capture.errors import (
    BadPayload,
    CaptureError,
    FormUnavailable,
    RateLimited,
)
from leadbase.capture.intake import intake
from leadbase.capture.markdown import render_markdown
from leadbase.capture.models import Form, LandingPage, SubmissionStatus
from leadbase.rows import json_dumps

URLENCODED, MULTIPART, JSON = (
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/json",
)
STATUS = {
    "form_not_found": 404,
    "origin_not_allowed": 403,
    "body_too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "method_not_allowed": 405,
}
MAX_FIELDS = 200
MAX_DEPTH = 20  # levels of JSON arrays and objects inside a posted value




def allow(*methods: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Answer other methods with ``405`` and a readable message (JSON to JSON clients) and the
    ``Allow`` header; Django's own 405 has an empty body, which a developer's PUT learns nothing
    from."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method not in methods:
                exc = CaptureError(
                    "method_not_allowed",
                    f"{request.method} is not accepted here; use {_either(methods)}.",
                )
                response = _error(request, exc)
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return checked

    return decorate


def _either(methods: tuple[str, ...]) -> str:
    """``GET, HEAD or POST``."""
    return f"{', '.join(methods[:-1])} or {methods[-1]}" if len(methods) > 1 else methods[0]


# ---------------------------------------------------------------------------------------------
# Reading requests


def published_form(slug: str) -> Form:
    """The published form ``slug`` with its workspace; FormUnavailable when there is none.

    Asked on every post, so it costs one plain query: it reads the form's and the workspace's
    rows, and when they are identical to those this process built its Form from before, that
    object is reused, so any change (an edit, unpublishing, even an ``update()`` that bypasses
    ``save()``) is seen by the next request. The object is shared between requests: read it,
    do not change it.
    """
    row = _form_row(slug)
    if row is None:
        raise FormUnavailable()
    known = _forms.get(slug)
    if known is not None and known[0] == row:
        return known[1]
    try:
        form = Form.objects.select_related("workspace").get(slug=slug, is_published=True)
    except Form.DoesNotExist:  # unpublished since
        raise FormUnavailable() from None
    if len(_forms) >= 1000:
        _forms.clear()
    _forms[slug] = (row, form)
    return form


_forms: dict[str, tuple[tuple[Any, ...], Form]] = {}


@cache
def _form_sql() -> str:
    quote = connection.ops.quote_name
    columns = [f"f.{quote(f.column)}" for f in Form._meta.concrete_fields]
    columns += [f"w.{quote(f.column)}" for f in Workspace._meta.concrete_fields]
    return (
        f"SELECT {', '.join(columns)} FROM {quote(Form._meta.db_table)} f "
        f"INNER JOIN {quote(Workspace._meta.db_table)} w ON w.id = f.workspace_id "
        "WHERE f.slug = %s AND f.is_published"
    )


def _form_row(slug: str) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(_form_sql(), [slug])
        row = cursor.fetchone()
    return None if row is None else tuple(row)


def header(request: HttpRequest, name: str) -> str | None:
    """The request header ``name`` (None when absent), read from ``request.META``: the first use
    of ``request.headers`` builds a dict of every header, which under granian means going
    through every environment variable of the server too (CGI puts them in the environ): with
    47 entries, a post's request outside its write took 1.29 million instructions that way and
    1.08 million this way (callgrind), for the four or five headers a post reads."""
    return request.META.get("HTTP_" + name.upper().replace("-", "_"))


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address: the proxy's last X-Forwarded-For hop when behind a trusted proxy.

    Some proxies append the hop with its port (``203.0.113.7:51234``, ``[2001:db8::1]:443``);
    the port is dropped. A last hop that is no address at all (empty, ``unknown``, text a client
    sent through a proxy that does not set the header) falls back to the connection's address,
    the proxy's: with no address the post would count against no per-IP limit at all.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = header(request, "X-Forwarded-For") if settings.SECURE_PROXY_SSL_HEADER else None
    if forwarded:
        hop = _address(_without_port(forwarded.split(",")[-1].strip()))
        if hop is not None:
            return hop
    return _address(remote)


def _without_port(hop: str) -> str:
    if hop.startswith("["):  # [IPv6]:port
        return hop[1:].split("]", 1)[0]
    if hop.count(":") == 1:  # IPv4:port (a bare IPv6 address has several colons)
        return hop.split(":", 1)[0]
    return hop


def _address(text: str) -> str | None:
    try:
        # Without a zone (fe80::1%eth0): a zone is no part of who the client is, and
        # PostgreSQL's inet column refuses it.
        return str(ipaddress.ip_address(text.split("%", 1)[0]))
    except ValueError:
        return None


def read_payload(request: HttpRequest) -> dict[str, Any]:
    """The posted fields as a dict; raises BadPayload for anything that cannot be read as sent.

    The whole body must be UTF-8 (a urlencoded body's escapes too), a field may be sent once,
    and files are refused: a lead form has no use for them.
    """
    limit = settings.FORM_MAX_BODY_KB * 1024
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise BadPayload(
            "body_too_large", f"The submission is larger than {settings.FORM_MAX_BODY_KB} KB."
        )
    content_type = (request.content_type or "").lower()
    charset = (request.content_params.get("charset") or "utf-8").lower()
    if content_type not in (URLENCODED, MULTIPART, JSON) or charset not in ("utf-8", "utf8"):
        raise BadPayload(
            "unsupported_media_type",
            "Send the form as UTF-8 application/x-www-form-urlencoded, multipart/form-data "
            "or application/json.",
        )
    body = request.body
    pairs = _multipart_pairs(request) if content_type == MULTIPART else []
    try:
        # A multipart body too: Django decodes its parts with errors="replace", so a field in
        # another encoding would otherwise be stored garbled instead of refused.
        text = body.decode("utf-8")
        if content_type == JSON:
            return _json_fields(text)
        if content_type == URLENCODED:
            pairs = parse_qsl(
                text,
                keep_blank_values=True,
                encoding="utf-8",
                errors="strict",
                max_num_fields=MAX_FIELDS,
            )
    except UnicodeDecodeError:
        raise BadPayload("invalid_encoding", "The submission is not valid UTF-8 text.") from None
    except ValueError:  # too many fields
        raise BadPayload("malformed_body", "The submission could not be read.") from None
    fields: dict[str, Any] = {}
    for key, value in pairs:
        if key in fields:
            raise BadPayload("repeated_field", f"“{key[:60]}” was sent more than once.", key[:60])
        fields[key] = value
    return _storable(fields)


def _multipart_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    """The text parts of a multipart body, read before the body is checked as UTF-8: a file's
    bytes need not be text, and a file is refused as a file (``file_not_accepted``). At most
    ``MAX_FIELDS`` parts, as for the other bodies."""
    try:
        files, post = request.FILES, request.POST
    except TooManyFilesSent:
        raise BadPayload("file_not_accepted", "Files cannot be sent with this form.") from None
    except (TooManyFieldsSent, MultiPartParserError):
        raise BadPayload("malformed_body", "The submission could not be read.") from None
    if files:
        raise BadPayload("file_not_accepted", "Files cannot be sent with this form.")
    pairs = [(k, v) for k, values in post.lists() for v in values]
    if len(pairs) > MAX_FIELDS:
        raise BadPayload("malformed_body", "The submission has too many fields.")
    return pairs


def _json_fields(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except ValueError:
        raise BadPayload("invalid_json", "The body is not valid JSON.") from None
    except RecursionError:  # [[[[…]]]]: a few KB nest deeper than the decoder's stack
        raise _too_deep() from None
    if not isinstance(data, dict):
        raise BadPayload("invalid_json", "Send a JSON object of field names and values.")
    if len(data) > MAX_FIELDS:
        raise BadPayload("malformed_body", "The submission has too many fields.")
    return _storable(data)


def _too_deep() -> BadPayload:
    return BadPayload("invalid_json", f"The JSON is nested more than {MAX_DEPTH} levels deep.")


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts them, JSON does not


def _storable(fields: dict[str, Any]) -> dict[str, Any]:
    """Refuse values no database can keep as sent: NUL characters, lone surrogates (escaped
    ``\\u0000`` or ``\\ud800`` in JSON) and infinite numbers would otherwise fail the journal
    insert on PostgreSQL."""
    for key, value in fields.items():
        if not _clean_text(key) or not _clean_text(value):
            raise BadPayload(
                "invalid_value",
                f"“{key[:60]}” holds a character or number that cannot be stored.",
                key[:60],
            )
    return fields


def _clean_text(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" not in value and (value.isascii() or _encodable(value))
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        # A form's values are flat; this deep, walking it (or writing it to the journal)
        # would run out of stack: a 500 instead of a 400.
        raise _too_deep()
    if isinstance(value, dict):
        return all(_clean_text(k) and _clean_text(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_clean_text(v, depth + 1) for v in value)
    return not isinstance(value, float) or math.isfinite(value)  # 1e400 parses as infinity


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def origin_allowed(request: HttpRequest, form: Form) -> bool:
    """True for requests without Origin (servers, curl), from this site, or an allowed origin."""
    origin = header(request, "Origin")
    if origin is None:
        return True
    return origin in form.allowed_origins or origin in _own_origins(request)


def _own_origins(request: HttpRequest) -> tuple[str, str]:
    """Leadbase's own origins: the configured address and the one this request came to."""
    return settings.BASE_URL, f"{request.scheme}://{request.get_host()}"


def wants_json(request: HttpRequest) -> bool:
    return (request.content_type or "").lower() == JSON or "text/html" not in (
        header(request, "Accept") or ""
    )


def _cors(request: HttpRequest, form: Form | None, response: HttpResponseBase) -> HttpResponseBase:
    """Let an allowed origin read the answer (no credentials: the endpoint uses no cookies)."""
    response["Vary"] = "Origin"
    origin = header(request, "Origin")
    if form is not None and origin and origin in form.allowed_origins:
        response["Access-Control-Allow-Origin"] = origin
    return response


def _error(request: HttpRequest, exc: CaptureError, form: Form | None = None) -> HttpResponseBase:
    status = STATUS.get(exc.code, 400)
    if wants_json(request) or request.method == "OPTIONS":
        body = {"error": exc.message, "code": exc.code} | (
            {"field": exc.field} if exc.field else {}
        )
        response: HttpResponseBase = JsonResponse(body, status=status)
    else:
        page = _page_for(form) if form is not None else None  # "Back" to the page it is on
        response = render(
            request, "capture/error.html", {"message": exc.message, "form": form, "page": page}, status=status
        )
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return _cors(request, form, response)


# ---------------------------------------------------------------------------------------------
# Pages and the form definition


def definition_of(request: HttpRequest, form: Form) -> dict[str, Any]:
    """What a client needs to render and post the form, with a fresh fill-time token."""
    return {
        "slug": form.slug,
        "name": form.name,
        "action": request.build_absolute_uri(reverse("capture:submit", args=[form.slug])),
        "fields": form.fields,
        "consents": form.consents,
        "honeypot": spam.HONEYPOT,
        "token": spam.fill_token(form),
        "pow": {"challenge": spam.pow_challenge(form), "bits": spam.POW_BITS}
        if form.proof_of_work
        else None,
        "thank_you_message": form.thank_you_message,
        "redirect_url": form.redirect_url or None,
    }


def _form_context(
    request: HttpRequest,
    form: Form,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What ``capture/_form.html`` renders: inputs with their value and error, hidden fields.

    ``values`` is a refused post shown again: its page, referrer, UTM tags and tracked link
    are carried as they were posted, so the next try is attributed as the first one would
    have been (this request's Referer is then our own form, and its URL ``/f/<slug>``). The
    first input at fault gets the focus, so the browser scrolls to it and a screen reader
    reads its error.
    """
    again, values, errors = values is not None, values or {}, dict(errors or {})
    inputs = [
        {
            **f,
            "value": values.get(f["key"], ""),
            "checked": is_checked(values.get(f["key"])),
            "error": errors.pop(f["key"], ""),
        }
        for f in form.fields
    ]
    consents = [
        {
            **c,
            "key": f"consent_{c['purpose']}",
            "checked": is_checked(values.get(f"consent_{c['purpose']}")),
            "error": errors.pop(f"consent_{c['purpose']}", ""),
        }
        for c in form.consents
    ]
    at_fault = next((c for c in (*inputs, *consents) if c["error"]), None)
    if at_fault is not None:
        at_fault["focus"] = True
    if again:
        # A plain HTML form on another site may post no page: its Referer was the page.
        page_url = _text_value(values.get("lb_page")) or header(request, "Referer") or ""
        referrer = _text_value(values.get("lb_referrer"))
    else:
        page_url, referrer = request.build_absolute_uri(), header(request, "Referer") or ""
    return {
        "form": form,
        "action": reverse("capture:submit", args=[form.slug]),
        "inputs": inputs,
        "consents": consents,
        "error": " ".join(errors.values()),  # errors about no visible input
        "focus_error": at_fault is None,
        "honeypot": spam.HONEYPOT,
        # A post shown again keeps the token it came with, and one that came without (a plain
        # form on another site) stays without: a fresh token would make the visitor who ticks
        # the box they missed and sends again within the fill time spam, silently.
        "token": _text_value(values.get(spam.TOKEN_FIELD)) if again else spam.fill_token(form),
        "pow": spam.pow_challenge(form) if form.proof_of_work else "",
        "pow_bits": spam.POW_BITS,
        "lb_page": page_url,
        "lb_referrer": referrer,
        "carried": [
            (key, _text_value(values.get(key)))
            for key in (*UTM_KEYS, "lb_link")
            if _text_value(values.get(key))
        ],
    }


def _text_value(value: Any) -> str:
    """A posted value as the text a hidden input carries ("" for none, true or false)."""
    return "" if value is None or isinstance(value, bool) else str(value)


def _page_for(form: Form) -> LandingPage | None:
    return form.pages.filter(is_published=True).order_by("pk").first()


def _render_form(
    request: HttpRequest, form: Form, page: LandingPage | None, status: int = 200,
    preview: bool = False, **kwargs: Any
) -> HttpResponse:
    context = _form_context(request, form, **kwargs) | {"preview": preview}
    if page is None:
        response = render(request, "capture/form_page.html", context, status=status)
    else:
        body_html = render_markdown(page.body)
        context |= {"page": page, "body_html": body_html, **_preview(page, body_html)}
        response = render(request, "capture/page.html", context, status=status)
    if form.proof_of_work:
        # Its challenge is good for one post: a copy kept by a cache (or the Back button) would
        # hand a spent one to the next visitor, whose post would then be spam, silently.
        response["Cache-Control"] = "no-store"
    return response


_BETWEEN_ITEMS = re.compile(r"</li>\s*<li[^>]*>")


def _preview(page: LandingPage, body_html: str) -> dict[str, str]:
    """What a link preview shows of ``page`` besides its headline and image (an http(s)
    address): its address without the UTM tags a tracked link adds (one preview for every
    post), and the body's opening as plain text."""
    # A list's items are joined with a middle dot: without tags they ran into one another
    # ("…one working day. a 20-minute call a tailored demo no obligation").
    text = " ".join(html.unescape(strip_tags(_BETWEEN_ITEMS.sub(" · ", body_html))).split())
    return {
        "canonical": settings.BASE_URL + reverse("capture:page", args=[page.slug]),
        "description": Truncator(text).chars(200),
    }


def page_preview(request: HttpRequest, form: Form, page: LandingPage) -> HttpResponse:
    """``page`` as ``/p/<slug>`` shows it, published or not, for its editor: marked as a
    preview, not indexed, and its form cannot be sent (a preview must not make leads)."""
    response = _render_form(request, form, page, preview=True)
    response["Cache-Control"] = "no-store"
    return response


@allow("GET", "HEAD")
def landing_page(request: HttpRequest, slug: str) -> HttpResponse:
    """``/p/<slug>``: headline, Markdown body, image and the form; submitting needs no script."""
    page = (
        LandingPage.objects.select_related("form__workspace")
        .filter(slug=slug, is_published=True, form__is_published=True)
        .first()
    )
    if page is None:
        return render(
            request,
            "capture/error.html",
            {"message": "This page does not exist or is not published."},
            status=404,
        )
    return _render_form(request, page.form, page)


@allow("GET", "HEAD", "OPTIONS")
def form_json(request: HttpRequest, slug: str) -> HttpResponseBase:
    """``/f/<slug>.json``: the form definition and a fill-time token, for script clients."""
    try:
        form = published_form(slug)
    except FormUnavailable as exc:
        return _error(request, exc)
    if request.method == "OPTIONS":
        return _preflight(request, form, "GET, OPTIONS")
    response = JsonResponse(definition_of(request, form))
    response["Cache-Control"] = "no-store"
    return _cors(request, form, response)


@cache
def _pow_js() -> str:
    with open(finders.find("capture/pow.js"), encoding="utf-8") as f:
        return f.read()


@allow("GET", "HEAD")
def embed_js(request: HttpRequest, slug: str) -> HttpResponse:
    """``/f/<slug>/embed.js``: renders the form where its ``<script>`` tag is, posts with fetch."""
    form = Form.objects.filter(slug=slug, is_published=True).first()
    if form is None:
        body = "console.error('Leadbase: this form does not exist or is not published.');"
        return HttpResponse(body, content_type="text/javascript; charset=utf-8", status=404)
    # The origins it may post from: on any other page the script says so instead of showing a
    # form whose posts the browser would refuse (CORS), which visitors would fill in for nothing.
    origins = [*form.allowed_origins, *_own_origins(request)]
    # "</" escaped: no text of the form can close the page's <script> element.
    definition = json.dumps(definition_of(request, form) | {"origins": origins}).replace("</", "<\\/")
    script = render_to_string("capture/embed.js", {"definition": definition, "pow_js": _pow_js()})
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-store"  # the fill-time token inside must be fresh
    return response


def _preflight(request: HttpRequest, form: Form, methods: str) -> HttpResponseBase:
    if not origin_allowed(request, form):
        return _error(request, _origin_error(request))
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = methods
    response["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    response["Access-Control-Max-Age"] = "86400"
    return _cors(request, form, response)


def _origin_error(request: HttpRequest) -> CaptureError:
    origin = (header(request, "Origin") or "")[:200]
    if origin == NO_ORIGIN:
        return CaptureError(
            "origin_not_allowed",
            "Sorry, your message was not sent: this form cannot be sent from this page. "
            "(For the site's owner: the browser sent Origin: null, as it does for a page whose "
            "Referrer-Policy is no-referrer. Set that page's Referrer-Policy to "
            "strict-origin-when-cross-origin, or add null to the form's allowed origins in "
            "Leadbase; any page can send null.)",
        )
    return CaptureError(
        "origin_not_allowed",
        "Sorry, your message was not sent: this form cannot be sent from this website. "
        f"(For the site's owner: add {origin} to the form's allowed origins in Leadbase.)",
    )


# ---------------------------------------------------------------------------------------------
# Submitting


@csrf_exempt
@allow("GET", "HEAD", "POST", "OPTIONS")
def submit(request: HttpRequest, slug: str) -> HttpResponseBase:
    """``/f/<slug>``: GET shows the bare form page; POST submits it; OPTIONS is the preflight."""
    form: Form | None = None
    payload: dict[str, Any] | None = None
    try:
        form = published_form(slug)
        if request.method == "OPTIONS":
            return _preflight(request, form, "POST, OPTIONS")
        if request.method in ("GET", "HEAD"):
            return _render_form(request, form, None)
        if not origin_allowed(request, form):
            raise _origin_error(request)
        payload = read_payload(request)
        meta = SubmitMeta(
            ip=client_ip(request),
            user_agent=header(request, "User-Agent") or "",
            referer=header(request, "Referer") or "",
        )
        result = intake.take(form, payload, meta)
    except CaptureError as exc:
        if isinstance(exc, RateLimited) and form is not None and payload is not None and not wants_json(request):
            # The form again, with what the visitor typed and when to send it: a page with a
            # link back to an empty form lost it (a room behind one address meets the limit).
            response = _render_form(request, form, _page_for(form), status=429, values=payload, errors={"": exc.message})
            response["Retry-After"] = str(exc.retry_after)
            return _cors(request, form, response)
        return _error(request, exc, form)
    return _cors(request, form, _answer(request, form, payload, result))


#: The answer to a post sent sooner than the fill time (``_answer``).
TOO_FAST = "That was quicker than we expected: please check your details and send the form again."


def _answer(
    request: HttpRequest, form: Form, payload: dict[str, Any], result: SubmitResult
) -> HttpResponse:
    """Spam gets exactly the answer a real submission gets, but for a post sent sooner than the
    fill time, which may be a person quick with autofill: it is asked to send again (a bot
    that learns to wait would pass the check anyway). A failure is still "received"."""
    if result.status == SubmissionStatus.SPAM and result.code == "too_fast":
        if wants_json(request):
            return JsonResponse({"error": TOO_FAST, "code": "too_fast"}, status=400)
        return _render_form(request, form, _page_for(form), status=400, values=payload, errors={"": TOO_FAST})
    if result.status == SubmissionStatus.REJECTED:
        if wants_json(request):
            body = {"error": result.message, "code": result.code} | (
                {"field": result.field} if result.field else {}
            )
            if result.more:  # every field at fault, the first one included
                body["errors"] = [
                    {"field": e.field, "code": e.code, "error": e.message}
                    for e in [CaptureError(result.code, result.message, result.field), *result.more]
                ]
            return JsonResponse(body, status=400)
        errors = {e.field: e.message for e in reversed(result.more)} | {result.field: result.message}
        return _render_form(request, form, _page_for(form), status=400, values=payload, errors=errors)
    status = 202 if result.status == SubmissionStatus.FAILED else 200
    note = _optin_note(form, payload)
    # The redirect page cannot show the note: it is told, so that it can say it itself.
    redirect = with_query(form.redirect_url, {"lb_confirm": "email"} if note else {}) if form.redirect_url else None
    if wants_json(request):
        body = {
            "ok": True,
            "message": form.thank_you_message,
            "redirect": redirect,
        }
        body |= ({"status": "received"} if status == 202 else {}) | ({"note": note} if note else {})
        # What JsonResponse answers (texts, true, null: the same JSON), without the encoder it
        # builds for every answer: a tenth of a form post's answer.
        return HttpResponse(json_dumps(body), content_type="application/json", status=status)
    if redirect:
        return HttpResponseRedirect(redirect, status=303)
    context = {"form": form, "page": _page_for(form), "note": note, "back": _back_to_site(request, form, payload)}
    return render(request, "capture/thanks.html", context, status=status)


def _back_to_site(request: HttpRequest, form: Form, payload: dict[str, Any]) -> tuple[str, str] | None:
    """(address, host) of the page on one of the form's allowed sites the post came from (the
    page's address the form sent, else the Referer), for the thank-you page's "Back" link: a
    visitor of the company's site goes back there, not to a Leadbase landing page they never saw."""
    for address in (payload.get("lb_page"), header(request, "Referer")):
        if not isinstance(address, str) or not address.startswith(("http://", "https://")):
            continue
        try:
            parts = urlsplit(address)
            origin = clean_origin(f"{parts.scheme}://{parts.netloc}")
        except (ValueError, CaptureError):
            continue
        if origin in form.allowed_origins:
            return address, origin.split("://", 1)[1]  # the host, and its port when not the default
    return None


def _optin_note(form: Form, payload: dict[str, Any]) -> str:
    """With double opt-in, what the visitor must do next. Worked out from what was posted only
    (a consent ticked, the address typed), never from what the post led to: spam gets the
    answer a real post with the same fields gets, and the answer does not tell whether that
    address had confirmed before (anyone can type anyone's address)."""
    if not (form.double_opt_in and form.consents):
        return ""
    if not any(is_checked(payload.get(f"consent_{c['purpose']}")) for c in form.consents):
        return ""  # nothing to confirm: no email is sent
    email = payload.get("email")
    if not isinstance(email, str) or not email.strip():
        return ""  # no address typed (a phone-only form): no email is sent
    return (
        f"Check your inbox at {email.strip()[:254]}: we sent you a link to confirm. "
        "If you confirmed before, there is nothing more to do."
    )

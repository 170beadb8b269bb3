"""The double opt-in link's public pages: ``/c/<token>`` (a button; its POST confirms) and
``/c/<token>/new`` (an expired link's button: a new link by email). No login: the signed token
in the URL is the credential."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from leadbase.capture.actions import do_confirm_optin, do_send_new_link, optin_state
from leadbase.capture.emails import read_confirm_token
from leadbase.capture.errors import ConfirmLinkError
from leadbase.capture.models import Form
from leadbase.capture.public import allow, client_ip
from leadbase.leads.models import Consent, ConsentStatus


@csrf_exempt  # the signed token in the URL is the credential; no session is involved
@allow("GET", "POST")
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """``/c/<token>``: GET shows a button, POST confirms (link scanners only GET).

    A consent withdrawn since the link was sent (the person unsubscribed) stays withdrawn, and
    the page says so rather than "confirmed".
    """
    answers: list[Consent] = []
    try:
        wanted = read_confirm_token(token)
        if request.method == "POST":
            answers = do_confirm_optin(wanted.lead_id, wanted.purposes, ip=client_ip(request))
    except ConfirmLinkError as exc:
        return _link_error(request, exc)
    form = Form.objects.select_related("workspace").filter(pk=wanted.form_id).first()
    # What the person agreed to is the text recorded with their consent, not the form's text of
    # today, which may have been edited since; the form's text only where none was recorded.
    consents = Consent.objects.filter(lead_id=wanted.lead_id, purpose__in=wanted.purposes)
    now = {purpose: (text, status) for purpose, text, status in consents.values_list("purpose", "text", "status")}
    recorded = {purpose: text for purpose, (text, _) in now.items() if text}
    shown = {c["purpose"]: c["text"] for c in (form.consents if form else [])}
    order = list(shown)  # the form's order, which the email used too (the token's is sorted)
    purposes = sorted(wanted.purposes, key=lambda p: (order.index(p) if p in order else len(order), p))
    texts = [recorded.get(p) or shown[p] for p in purposes if recorded.get(p) or p in shown]
    granted = [a for a in answers if a.status == ConsentStatus.GRANTED]
    context = {
        "form": form,
        "texts": texts,
        "done": request.method == "POST",
        "withdrawn": len(granted) < len(answers),
        "granted": bool(granted),
        # the link opened again after it was used: nothing left to press
        "already": request.method != "POST"
        and all(now.get(p, ("", ""))[1] == ConsentStatus.GRANTED for p in wanted.purposes),
    }
    return render(request, "capture/confirm.html", context)


def _link_error(request: HttpRequest, exc: ConfirmLinkError) -> HttpResponse:
    """The page of a link that does not work. An expired link whose consents are all granted by
    now says so (a person clicking an old email); one with consents still pending offers a new
    link; a withdrawn or erased one only says it expired."""
    context: dict[str, Any] = {"error": exc.message}
    if exc.code == "expired_link" and exc.wanted is not None:
        wanted = exc.wanted
        pending, granted = optin_state(wanted.lead_id, wanted.purposes)
        form = Form.objects.select_related("workspace").filter(pk=wanted.form_id).first()
        if granted:
            return render(request, "capture/confirm.html", {"form": form, "already": True})
        context["renewable"] = bool(pending) and form is not None
    return render(
        request, "capture/confirm.html", context, status=410 if exc.code != "invalid_link" else 400
    )


@csrf_exempt  # as ``confirm``: the signed token is the credential
@allow("POST")
def new_link(request: HttpRequest, token: str) -> HttpResponse:
    """``/c/<token>/new``: the button of an expired link's page; emails a new link for what it
    asked that is still pending (at most one every ``NEW_LINK_EVERY`` per lead)."""
    try:
        read_confirm_token(token)
    except ConfirmLinkError as exc:
        if exc.code != "expired_link" or exc.wanted is None:
            return _link_error(request, exc)
        expired = exc
    else:  # not expired (a second tab, a clock): the link itself still works
        return redirect("capture:confirm", token=token)
    try:
        sent = do_send_new_link(expired.wanted)
    except ConfirmLinkError as exc:
        status = 429 if exc.code == "too_soon" else 410
        response = render(request, "capture/confirm.html", {"error": exc.message, "not_sent": True}, status=status)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if not sent:  # confirmed or withdrawn meanwhile: the link's page says which
        return _link_error(request, expired)
    return render(request, "capture/confirm.html", {"new_link_sent": True, "hours": settings.CONFIRM_LINK_HOURS})

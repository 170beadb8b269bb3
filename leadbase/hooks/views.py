"""Webhook settings pages: endpoints, their delivery log, test events, redelivery, the secret,
deleting an endpoint (a confirmation page, then a POST).

Owners manage; marketers can look (never at the secret); other roles get 403. Each view checks
access through ``queries``, calls one action and renders or redirects.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from leadbase.hooks.actions import (
    do_create_endpoint,
    do_delete_endpoint,
    do_disable_endpoint,
    do_enable_endpoint,
    do_redeliver,
    do_rotate_secret,
    do_send_test_event,
    do_update_endpoint,
)
from leadbase.hooks.errors import WebhookError
from leadbase.hooks.forms import EndpointForm
from leadbase.hooks.models import DeliveryStatus, Endpoint
from leadbase.hooks.payloads import TEST_EVENT
from leadbase.hooks.queries import (
    can_manage_webhooks,
    check_webhook_access,
    deliveries_page,
    endpoints_for_user,
    get_delivery_for_user,
    get_endpoint_for_user,
)
from leadbase.web.access import member_required
from leadbase.web.views.util import wants_partial

NAV = "webhooks"


@member_required(manage=True)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "hooks/list.html",
        {
            "endpoints": endpoints_for_user(request.membership),
            "can_manage": can_manage_webhooks(request.membership),
            "nav": NAV,
        },
    )


@member_required(manage=True)
def endpoint_new(request: HttpRequest) -> HttpResponse:
    """Add an endpoint, then show its secret."""
    check_webhook_access(request.membership, manage=True)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = do_create_endpoint(
                request.membership.workspace,
                form.cleaned_data["url"],
                form.cleaned_data["events"],
                actor=request.user,
            )
        except WebhookError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            messages.success(
                request, "Endpoint added. Copy its secret into your receiver to check signatures."
            )
            return redirect("hooks:secret", pk=endpoint.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "hooks/form.html", {"form": form, "nav": NAV}, status=status)


@member_required(manage=True)
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_endpoint_for_user(request.membership, pk, manage=True)
    initial = {"url": endpoint.url, "events": endpoint.events}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            do_update_endpoint(
                endpoint,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                actor=request.user,
            )
        except WebhookError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("hooks:detail", pk=endpoint.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "hooks/form.html", {"form": form, "endpoint": endpoint, "nav": NAV}, status=status
    )


@member_required(manage=True)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint and its delivery log (newest first); htmx refreshes the log while
    deliveries are on their way."""
    endpoint = get_endpoint_for_user(request.membership, pk)
    try:
        before = int(request.GET["before"])
    except (KeyError, ValueError):
        before = None
    deliveries, next_before = deliveries_page(endpoint, before=before)
    context = {
        "endpoint": endpoint,
        "deliveries": deliveries,
        "next_before": next_before,
        "paged": before is not None,
        "in_progress": any(
            d.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING) for d in deliveries
        ),
        "can_manage": can_manage_webhooks(request.membership),
        "test_event": TEST_EVENT,
        "nav": NAV,
    }
    if wants_partial(request):
        return render(request, "hooks/_deliveries.html", context)
    return render(request, "hooks/detail.html", context)


@never_cache
@member_required(manage=True)
def endpoint_secret(request: HttpRequest, pk: int) -> HttpResponse:
    """The signing secret, for owners only, never cached by the browser or a proxy."""
    endpoint = get_endpoint_for_user(request.membership, pk, manage=True)
    return render(request, "hooks/secret.html", {"endpoint": endpoint, "nav": NAV})


@require_POST
@member_required(manage=True)
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_endpoint_for_user(request.membership, pk, manage=True)
    do_rotate_secret(endpoint, actor=request.user)
    messages.success(
        request, "New secret made. Deliveries from now on are signed with it: update your receiver."
    )
    return redirect("hooks:secret", pk=endpoint.pk)


@require_POST
@member_required(manage=True)
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, do_send_test_event, "Test event queued; its result appears below.")


@require_POST
@member_required(manage=True)
def endpoint_disable(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        do_disable_endpoint,
        "Endpoint disabled. Nothing is sent to it until you enable it.",
    )


@require_POST
@member_required(manage=True)
def endpoint_enable(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, do_enable_endpoint, "Endpoint enabled. New events are sent to it again."
    )


@member_required(manage=True)
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what deleting the endpoint removes; POST: delete it with its delivery log."""
    endpoint = get_endpoint_for_user(request.membership, pk, manage=True)
    if request.method == "POST":
        try:
            deliveries = do_delete_endpoint(endpoint, actor=request.user)
        except WebhookError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"Endpoint deleted with its {deliveries:,} logged deliveries."
            )
        return redirect("hooks:list")
    deliveries = endpoint.deliveries.count()
    return render(
        request,
        "web/confirm_remove.html",
        {
            "title": "Delete this webhook endpoint?",
            "crumb_url": reverse("hooks:detail", args=[endpoint.pk]),
            "crumb_label": endpoint.url,
            "lead": f"{endpoint.url} will receive no more events, and its delivery log "
            f"({deliveries:,} deliveries) is deleted with it. This cannot be undone.",
            "details": [
                "Deliveries still waiting for a retry are dropped.",
                "To stop sending for a while and keep the log, disable the endpoint instead.",
            ],
            "archive": False,
            "button": "Delete the endpoint",
            "action_url": reverse("hooks:delete", args=[endpoint.pk]),
            "cancel_url": reverse("hooks:detail", args=[endpoint.pk]),
            "nav": NAV,
        },
    )


@member_required(manage=True)
def delivery_detail(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    """One delivery with the exact payload sent."""
    delivery = get_delivery_for_user(request.membership, pk, delivery_pk)
    return render(
        request,
        "hooks/delivery.html",
        {
            "delivery": delivery,
            "endpoint": delivery.endpoint,
            "payload": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
            "can_manage": can_manage_webhooks(request.membership),
            "nav": NAV,
        },
    )


@require_POST
@member_required(manage=True)
def delivery_redeliver(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    delivery = get_delivery_for_user(request.membership, pk, delivery_pk, manage=True)
    try:
        do_redeliver(delivery, actor=request.user)
    except WebhookError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Delivery {delivery.event_id} queued again.")
    return redirect("hooks:detail", pk=pk)


def _act(request: HttpRequest, pk: int, action: Callable[..., object], done: str) -> HttpResponse:
    endpoint: Endpoint = get_endpoint_for_user(request.membership, pk, manage=True)
    try:
        action(endpoint, actor=request.user)
    except WebhookError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("hooks:detail", pk=endpoint.pk)

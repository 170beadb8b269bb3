"""Access-checked reads of webhook endpoints and their delivery log, and the fan-out lookup.

Owners manage endpoints; marketers may look (the list and the delivery log, never the secret);
sales and viewers get 403. An endpoint of another workspace is a 404 (its id is not confirmed).
This module owns ``select_related``; callers never add joins.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from leadbase.accounts.models import Membership, Role
from leadbase.hooks.models import Delivery, DeliveryStatus, Endpoint

#: The window of the "recent failures" count on the endpoints list.
RECENT = timedelta(hours=24)
#: Rows of the delivery log per page.
LOG_PAGE = 50


def can_manage_webhooks(membership: Membership) -> bool:
    return membership.role == Role.OWNER


def check_webhook_access(membership: Membership, *, manage: bool) -> None:
    """PermissionDenied unless the member may see webhooks (``manage``: change them)."""
    if manage and not can_manage_webhooks(membership):
        raise PermissionDenied("Only owners can change webhooks.")
    if not membership.can_manage:
        raise PermissionDenied("Only owners and marketers can see webhooks.")


def endpoints_for_user(membership: Membership) -> list[Endpoint]:
    """The workspace's endpoints, oldest first, each with ``recent_failures`` (last 24 hours)."""
    check_webhook_access(membership, manage=False)
    # A correlated count, not a join: it reads only the failed rows of the last day through the
    # (endpoint, status, created_at) index, however many deliveries an endpoint has had.
    failures = (
        Delivery.objects.filter(
            endpoint=OuterRef("pk"),
            status__in=[DeliveryStatus.FAILED, DeliveryStatus.GAVE_UP],
            created_at__gte=timezone.now() - RECENT,
        )
        .order_by()
        .values("endpoint")
        .annotate(n=Count("id"))
        .values("n")
    )
    return list(
        Endpoint.objects.filter(workspace_id=membership.workspace_id)
        .annotate(recent_failures=Coalesce(Subquery(failures), 0))
        .order_by("created_at", "id")
    )


def get_endpoint_for_user(membership: Membership, pk: int, *, manage: bool = False) -> Endpoint:
    """The endpoint ``pk`` of the member's workspace (else 404); ``manage``: owners only."""
    endpoint = (
        Endpoint.objects.filter(workspace_id=membership.workspace_id, pk=pk)
        .select_related("workspace")
        .first()
    )
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    check_webhook_access(membership, manage=manage)
    return endpoint


def get_delivery_for_user(
    membership: Membership, endpoint_pk: int, pk: int, *, manage: bool = False
) -> Delivery:
    """The delivery ``pk`` of that endpoint of the member's workspace (404 otherwise)."""
    delivery = (
        Delivery.objects.filter(
            pk=pk, endpoint_id=endpoint_pk, endpoint__workspace_id=membership.workspace_id
        )
        .select_related("endpoint")
        .first()
    )
    if delivery is None:
        raise Http404("No such delivery.")
    check_webhook_access(membership, manage=manage)
    return delivery


def deliveries_page(
    endpoint: Endpoint, *, before: int | None = None
) -> tuple[list[Delivery], int | None]:
    """One page of the endpoint's delivery log, newest first, and the id to continue ``before``.

    Keyset on the id (index ``delivery_endpoint_id``), never OFFSET; the payloads stay on disk.
    """
    rows: QuerySet[Delivery] = (
        Delivery.objects.filter(endpoint=endpoint).defer("payload").order_by("-id")
    )
    if before is not None:
        rows = rows.filter(id__lt=before)
    page = list(rows[: LOG_PAGE + 1])
    more = len(page) > LOG_PAGE
    return page[:LOG_PAGE], page[LOG_PAGE - 1].pk if more else None


def has_active_endpoints(workspace_id: int) -> bool:
    """Whether the workspace has any active endpoint: asked for every captured lead, so it is one
    plain indexed query without the ORM's cost of building one (a form post's hot path)."""
    table = connection.ops.quote_name(Endpoint._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE workspace_id = %s AND is_active LIMIT 1", [workspace_id])
        return cursor.fetchone() is not None


def endpoints_for_event(workspace_id: int, event: str) -> list[Endpoint]:
    """The workspace's active endpoints subscribed to ``event``: one indexed query, so a
    workspace without webhooks pays almost nothing per captured lead or batch."""
    endpoints = (
        Endpoint.objects.filter(workspace_id=workspace_id, is_active=True)
        .select_related("workspace")
        .only("id", "events", "workspace__slug")
    )
    return [endpoint for endpoint in endpoints if endpoint.wants(event)]

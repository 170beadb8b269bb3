"""Channels: the social accounts the business promotes on, with their follower counts.

Every role may read them (they hold no personal data); adding a channel or a follower count is
for owners and marketers, through the capture app's channel actions.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from leadbase.api.auth import require_manage
from leadbase.api.idempotency import idempotency_header, run_idempotent
from leadbase.api.schemas import (
    ERROR_RESPONSES,
    ChannelDetail,
    ChannelIn,
    ChannelList,
    SnapshotIn,
    SnapshotOut,
    rendered,
)
from leadbase.capture.channels import do_create_channel, do_record_snapshot
from leadbase.capture.channels_queries import (
    channels_for_user,
    get_channel_for_user,
    snapshots_for_channel,
)
from leadbase.capture.models import Channel

router = Router(tags=["channels"])


@router.get("/channels", response={200: ChannelList, **ERROR_RESPONSES}, summary="List channels")
def list_channels(request: HttpRequest) -> dict[str, Any]:
    """Every channel of the workspace with its latest follower count, by platform and handle."""
    return {"items": channels_for_user(request.membership)}


@router.get(
    "/channels/{int:channel_id}",
    response={200: ChannelDetail, **ERROR_RESPONSES},
    summary="Get a channel",
)
def get_channel(request: HttpRequest, channel_id: int) -> Channel:
    """The channel with its follower history, oldest day first."""
    return _with_history(get_channel_for_user(request.membership, channel_id))


@router.post("/channels", response={201: ChannelDetail, **ERROR_RESPONSES}, summary="Add a channel")
def create_channel(
    request: HttpRequest,
    payload: ChannelIn,
    idempotency_key: str | None = idempotency_header(),
) -> HttpResponse:
    require_manage(request)

    def write() -> tuple[int, dict[str, Any]]:
        channel = do_create_channel(
            request.workspace,
            platform=payload.platform,
            handle=payload.handle,
            url=payload.url,
            actor=request.user,
        )
        return 201, rendered(ChannelDetail.from_orm(_with_history(channel)))

    return run_idempotent(request, idempotency_key, write)


@router.post(
    "/channels/{int:channel_id}/snapshots",
    response={201: SnapshotOut, **ERROR_RESPONSES},
    summary="Record a follower count",
)
def record_snapshot(
    request: HttpRequest,
    channel_id: int,
    payload: SnapshotIn,
    idempotency_key: str | None = idempotency_header(),
) -> HttpResponse:
    """The channel's follower count on a day; a second count for the same day replaces the first."""
    require_manage(request)
    channel = get_channel_for_user(request.membership, channel_id)

    def write() -> tuple[int, dict[str, Any]]:
        snapshot = do_record_snapshot(
            channel, day=payload.date, followers=payload.followers, actor=request.user
        )
        return 201, rendered(SnapshotOut.from_orm(snapshot))

    return run_idempotent(request, idempotency_key, write)


def _with_history(channel: Channel) -> Channel:
    """``channel`` with ``history`` (its snapshots) and its latest count, for ChannelDetail."""
    channel.history = snapshots_for_channel(channel)
    latest = channel.history[-1] if channel.history else None
    channel.followers = latest.followers if latest else None
    channel.followers_on = latest.date if latest else None
    return channel

"""Channel pages (signed in) and the public tracked-link redirect ``/r/<code>``.

Every member reads channels, follower history and links; owners and marketers change, remove
and restore them. A removal is a POST behind a confirmation page (its GET), which says whether
the object will be archived (it has history) or deleted. Views only authorize, parse and call
one action from ``leadbase.capture.channels``.
"""

from __future__ import annotations

import logging
import tempfile

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from leadbase.capture.bots import is_bot
from leadbase.capture.channels import (
    ChannelError,
    SnapshotImportError,
    channel_has_history,
    do_create_channel,
    do_create_link,
    do_delete_snapshot,
    do_import_snapshots,
    do_record_click,
    do_record_snapshot,
    do_remove_channel,
    do_remove_link,
    do_restore_channel,
    do_restore_link,
    do_update_channel,
    do_update_link,
    link_destination,
    link_has_history,
)
from leadbase.capture.channels_queries import (
    archived_count,
    channel_choices,
    channels_for_user,
    get_channel_for_user,
    get_link_by_code,
    get_link_for_user,
    get_snapshot_for_user,
    landing_pages_for_user,
    links_for_user,
    snapshots_for_channel,
)
from leadbase.capture.forms_channels import (
    ChannelForm,
    LinkForm,
    SnapshotForm,
    SnapshotImportForm,
    add_channel_error,
)
from leadbase.capture.models import Channel, Removal, TrackedLink
from leadbase.reports.charts import Series, line_chart
from leadbase.web.access import member_required
from leadbase.web.views.util import wants_partial

logger = logging.getLogger(__name__)

#: Follower counts listed under the chart (the chart shows them all).
HISTORY_ROWS = 52


def _status(request: HttpRequest) -> int:
    return 400 if request.method == "POST" else 200


def _counted(number: int, thing: str) -> str:
    """``1 new day``, ``2 new days``."""
    return f"{number:,} {thing}{'' if number == 1 else 's'}"


def _archived(request: HttpRequest) -> bool:
    return request.GET.get("archived") == "1"


@member_required
def channel_list(request: HttpRequest) -> HttpResponse:
    """The channels in use; ``?archived=1`` lists the archived ones."""
    archived = _archived(request)
    context = {
        "channels": channels_for_user(request.membership, archived=archived),
        "archived": archived,
        "archived_count": archived_count(Channel, request.membership),
        "nav": "channels",
    }
    return render(request, "capture/channels/list.html", context)


@member_required(manage=True)
def channel_new(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel = do_create_channel(
                request.membership.workspace, **form.cleaned_data, actor=request.user
            )
        except ChannelError as exc:
            add_channel_error(form, exc)
        else:
            messages.success(request, f"{channel} was added. Record its follower count below.")
            return redirect("channels:detail", pk=channel.pk)
    return render(
        request,
        "capture/channels/form.html",
        {"form": form, "nav": "channels"},
        status=_status(request),
    )


@member_required(manage=True)
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_channel_for_user(request.membership, pk)
    initial = {"platform": channel.platform, "handle": channel.handle, "url": channel.url}
    form = ChannelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            do_update_channel(channel, **form.cleaned_data, actor=request.user)
        except ChannelError as exc:
            add_channel_error(form, exc)
        else:
            return redirect("channels:detail", pk=channel.pk)
    context = {"form": form, "channel": channel, "nav": "channels"}
    return render(request, "capture/channels/form.html", context, status=_status(request))


def _history(channel: Channel, snapshots: list) -> dict:
    chart = line_chart(
        chart_id=f"followers-{channel.pk}",
        title=f"Followers of {channel}",
        description=(
            f"{len(snapshots)} follower counts from {snapshots[0].date:%Y-%m-%d} "
            f"to {snapshots[-1].date:%Y-%m-%d}; "
            f"latest {snapshots[-1].followers:,}."
            if snapshots
            else "No follower counts recorded yet."
        ),
        x=[s.date for s in snapshots],
        series=[Series("Followers", [s.followers for s in snapshots])],
        left_label="Followers",
    )
    recent = snapshots[::-1][:HISTORY_ROWS]
    return {"chart": chart, "recent": recent, "total": len(snapshots)}


def _detail(
    request: HttpRequest, channel: Channel, form: SnapshotForm, status: int = 200, recorded: str = ""
) -> HttpResponse:
    context = {
        "recorded": recorded,  # said in the section an htmx post gets back (no page, no messages)
        "channel": channel,
        "history": _history(channel, snapshots_for_channel(channel)),
        "form": form,
        "nav": "channels",
    }
    if wants_partial(request):
        return render(request, "capture/channels/_history.html", context, status=status)
    context.update(links=links_for_user(request.membership, channel), base_url=settings.BASE_URL)
    return render(request, "capture/channels/detail.html", context, status=status)


@member_required
def channel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The follower history (chart and table), the form to record a count, the channel's links."""
    return _detail(request, get_channel_for_user(request.membership, pk), SnapshotForm())


@require_POST
@member_required(manage=True)
def snapshot_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a follower count; an htmx post gets the refreshed history section back."""
    channel = get_channel_for_user(request.membership, pk)
    form = SnapshotForm(request.POST)
    if form.is_valid():
        try:
            do_record_snapshot(
                channel,
                day=form.cleaned_data["date"],
                followers=form.cleaned_data["followers"],
                actor=request.user,
            )
        except ChannelError as exc:
            add_channel_error(form, exc)
        else:
            day = form.cleaned_data["date"]
            recorded = f"Recorded {form.cleaned_data['followers']:,} followers for {day:%b} {day.day}, {day.year}."
            if wants_partial(request):
                return _detail(request, channel, SnapshotForm(), recorded=recorded)
            messages.success(request, recorded)
            return redirect("channels:detail", pk=channel.pk)
    return _detail(request, channel, form, status=400)


@require_POST
@member_required(manage=True)
def snapshot_delete(request: HttpRequest, pk: int, snapshot_pk: int) -> HttpResponse:
    snapshot = get_snapshot_for_user(request.membership, pk, snapshot_pk)
    do_delete_snapshot(snapshot, actor=request.user)
    messages.success(request, f"Removed the follower count of {snapshot.date:%Y-%m-%d}.")
    return redirect("channels:detail", pk=pk)


@member_required(manage=True)
def snapshot_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a ``date,followers`` CSV. Bad rows are listed with their reason; nothing is
    written unless every row is good."""
    channel = get_channel_for_user(request.membership, pk)
    form = SnapshotImportForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        with tempfile.NamedTemporaryFile(suffix=".csv") as saved:
            for chunk in form.cleaned_data["file"].chunks():
                saved.write(chunk)
            saved.flush()
            try:
                result = do_import_snapshots(channel, saved.name, actor=request.user)
            except SnapshotImportError as exc:
                form.add_error(None, exc.message)
                problems = exc.problems
            except ChannelError as exc:
                add_channel_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Imported {_counted(result.created + result.updated, 'follower count')} "
                    f"({_counted(result.created, 'new day')}, {result.updated:,} replaced).",
                )
                return redirect("channels:detail", pk=channel.pk)
    context = {"channel": channel, "form": form, "problems": problems, "nav": "channels"}
    return render(request, "capture/channels/import.html", context, status=_status(request))


@member_required
def link_list(request: HttpRequest) -> HttpResponse:
    """The tracked links in use; ``?archived=1`` lists the archived ones."""
    archived = _archived(request)
    context = {
        "links": links_for_user(request.membership, archived=archived),
        "archived": archived,
        "archived_count": archived_count(TrackedLink, request.membership),
        "base_url": settings.BASE_URL,
        "nav": "links",
    }
    return render(request, "capture/channels/links.html", context)


def _link_form(request: HttpRequest, link: TrackedLink | None = None, **kwargs) -> LinkForm:
    membership = request.membership
    return LinkForm(
        request.POST or None,
        channels=channel_choices(membership, keep=link.channel_id if link else None),
        pages=landing_pages_for_user(membership, keep=link.page_id if link else None),
        **kwargs,
    )


@member_required(manage=True)
def link_new(request: HttpRequest) -> HttpResponse:
    """Create a tracked link; ``?channel=<id>`` preselects the channel."""
    form = _link_form(request, initial={"channel": request.GET.get("channel")})
    if request.method == "POST" and form.is_valid():
        try:
            link = do_create_link(
                request.membership.workspace,
                form.spec,
                code=form.cleaned_data["code"],
                actor=request.user,
            )
        except ChannelError as exc:
            add_channel_error(form, exc)
        else:
            messages.success(request, f"Tracked link /r/{link.code} created.")
            if link.channel_id:
                return redirect("channels:detail", pk=link.channel_id)
            return redirect("channels:links")
    return render(
        request,
        "capture/channels/link_form.html",
        {"form": form, "nav": "links"},
        status=_status(request),
    )


@member_required(manage=True)
def link_edit(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_link_for_user(request.membership, pk)
    initial = {
        name: getattr(link, name)
        for name in (
            "label",
            "target_url",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
        )
    }
    form = _link_form(
        request,
        link,
        initial={**initial, "channel": link.channel_id, "page": link.page_id},
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            do_update_link(link, form.spec, actor=request.user)
        except ChannelError as exc:
            add_channel_error(form, exc)
        else:
            messages.success(request, f"Tracked link /r/{link.code} saved.")
            return redirect("channels:links")
    context = {"form": form, "link": link, "nav": "links"}
    return render(request, "capture/channels/link_form.html", context, status=_status(request))


def _confirm(request: HttpRequest, **context) -> HttpResponse:
    return render(request, "web/confirm_remove.html", context)


def _removed(request: HttpRequest, what: str, done: Removal, archived_note: str) -> None:
    if done == Removal.ARCHIVED:
        messages.success(request, f"{what} archived. {archived_note}")
    else:
        messages.success(request, f"{what} deleted.")


@member_required(manage=True)
def channel_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what removing the channel will do; POST: archive it (it has follower counts or
    links) or delete it."""
    channel = get_channel_for_user(request.membership, pk)
    if request.method == "POST":
        try:
            done = do_remove_channel(channel, actor=request.user)
        except ChannelError as exc:
            messages.error(request, exc.message)
        else:
            _removed(
                request,
                str(channel),
                done,
                "Its follower history and links are kept; restore it from the archived channels.",
            )
        return redirect("channels:list")
    if channel.archived_at is not None:
        return redirect("channels:detail", pk=channel.pk)
    archive = channel_has_history(channel)
    return _confirm(
        request,
        title=f"Remove {channel}?",
        crumb_url=reverse("channels:detail", args=[channel.pk]),
        crumb_label=str(channel),
        lead=(
            "This channel has follower counts or tracked links, so it will be archived, not "
            "deleted: the history behind your reports is kept."
            if archive
            else "This channel has no follower counts and no links, so it will be deleted."
        ),
        details=[
            "It leaves the channel list, the link form and the Owned vs rented report.",
            "Its tracked links keep redirecting and counting clicks.",
            "You can restore it from the archived channels.",
        ]
        if archive
        else [],
        archive=archive,
        button="Archive the channel" if archive else "Delete the channel",
        action_url=reverse("channels:remove", args=[channel.pk]),
        cancel_url=reverse("channels:detail", args=[channel.pk]),
        nav="channels",
    )


@require_POST
@member_required(manage=True)
def channel_restore(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_channel_for_user(request.membership, pk)
    try:
        do_restore_channel(channel, actor=request.user)
    except ChannelError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{channel} restored.")
    return redirect("channels:detail", pk=channel.pk)


@member_required(manage=True)
def link_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what removing the link will do; POST: archive it (it has clicks or submissions)
    or delete it."""
    link = get_link_for_user(request.membership, pk)
    if request.method == "POST":
        try:
            done = do_remove_link(link, actor=request.user)
        except ChannelError as exc:
            messages.error(request, exc.message)
        else:
            _removed(
                request,
                f"Tracked link /r/{link.code}",
                done,
                "It still redirects visitors from your posts and counts their clicks.",
            )
        return redirect("channels:links")
    if link.archived_at is not None:
        return redirect(f"{reverse('channels:links')}?archived=1")
    archive = link_has_history(link)
    return _confirm(
        request,
        title=f"Remove /r/{link.code}?",
        crumb_url=reverse("channels:links"),
        crumb_label="Tracked links",
        lead=(
            "This link has clicks or brought submissions, so it will be archived, not deleted."
            if archive
            else "This link has no clicks and brought no submissions, so it will be deleted and "
            f"/r/{link.code} will lead nowhere."
        ),
        details=[
            "It leaves the link lists; its clicks stay in the reports.",
            (
                f"/r/{link.code} keeps redirecting and counting clicks: the posts that carry it "
                "are still online. To send those visitors elsewhere, edit the link instead."
            ),
            "You can restore it from the archived links.",
        ]
        if archive
        else [],
        archive=archive,
        button="Archive the link" if archive else "Delete the link",
        action_url=reverse("channels:link_remove", args=[link.pk]),
        cancel_url=reverse("channels:links"),
        nav="links",
    )


@require_POST
@member_required(manage=True)
def link_restore(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_link_for_user(request.membership, pk)
    try:
        do_restore_link(link, actor=request.user)
    except ChannelError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Tracked link /r/{link.code} restored.")
    return redirect("channels:links")


@never_cache
@require_http_methods(["GET", "HEAD"])
def follow_link(request: HttpRequest, code: str) -> HttpResponse:
    """Public ``/r/<code>``: 302 to the link's destination, counting the click when a person
    (not a bot or a link preview) made it; archived links too (they are still in posts). An
    unknown code, or a link to a landing page deleted or offline (``link_destination``), is a
    404 page and counts no click."""
    link = get_link_by_code(code) if len(code) <= 32 else None
    destination = link_destination(link) if link is not None else None
    if destination is None:
        return render(request, "capture/channels/link_missing.html", status=404)
    if not is_bot(request.method, request.headers.get("User-Agent", ""), request.headers):
        try:
            do_record_click(link, referrer=request.headers.get("Referer", ""))
        except Exception:  # a lost click must never cost the visitor the page
            logger.exception("could not record a click on /r/%s", link.code)
    response = HttpResponseRedirect(destination)
    response["X-Robots-Tag"] = "noindex"
    # The landing page records where the visitor came from (the post the link was in) from its
    # own Referer. A redirect's Referrer-Policy applies to the request it leads to, and the site's
    # ``same-origin`` would drop that referrer there (it is another site's): this keeps what the
    # visitor's page allowed to be sent, except from https to plain http.
    response["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response

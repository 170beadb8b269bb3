"""Access-checked reads of leads, their timeline, possible duplicates and imports.

Every read a page, the API or a command needs about leads goes through here, so the workspace
and role checks are written once: a lead of another workspace is a 404 (its id is not even
confirmed), a ``sales`` member only sees the leads they own, a ``viewer`` cannot write. This
module owns ``select_related``; callers never add joins.

Lists are fast at a million leads because every ordering used here is an index of
``Lead.Meta.indexes`` and pages are cut by keyset (``WHERE key > last``), never by OFFSET, and
never counted. Searches are prefix *range* conditions (``key >= q AND key < q + U+10FFFF``) on
normalized keys, which SQLite and PostgreSQL (with a byte-order collation such as C or
C.UTF-8) both answer from the index, unlike ``LIKE '%q%'``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from leadbase.accounts.models import Membership, User
from leadbase.leads.models import (
    Consent,
    DuplicateStatus,
    ImportJob,
    Lead,
    PossibleDuplicate,
    Stage,
    Touch,
    TouchKind,
)

#: Sorts of the leads list, each backed by an index.
SORTS = ("newest", "oldest", "name", "score")
#: Greater than every character, so ``key < prefix + TOP`` bounds all strings starting with prefix.
TOP = "\U0010ffff"
#: The "owner" filter value for leads nobody owns.
UNASSIGNED = "none"

# Columns shown on the leads list; the JSON columns stay on disk.
_LIST_COLUMNS = (
    "id",
    "workspace_id",
    "name",
    "name_key",
    "family_key",
    "email",
    "email_key",
    "phone",
    "phone_e164",
    "company",
    "job_title",
    "country",
    "source",
    "stage",
    "score",
    "owner",
    "created_at",
    "owner__id",
    "owner__email",
    "owner__first_name",
    "owner__last_name",
)


class BadCursor(ValueError):
    """A pagination cursor that was not made by this module (edited or truncated URL)."""


def encode_cursor(values: list[Any]) -> str:
    """An opaque, URL-safe cursor for the row after which the next page starts."""
    raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The values of a cursor from :func:`encode_cursor`; BadCursor when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor(cursor) from None
    if not isinstance(values, list) or not values:
        raise BadCursor(cursor)
    return values


def _scoped(membership: Membership) -> QuerySet[Lead]:
    """The leads ``membership`` may see: its workspace, and for ``sales`` only their own."""
    qs = Lead.objects.filter(workspace_id=membership.workspace_id)
    if not membership.sees_all_leads:
        qs = qs.filter(owner_id=membership.user_id)
    return qs


# --- search -------------------------------------------------------------------------------

_PHONE_LIKE = re.compile(r"^\+?[\d\s\-().\/]+$")


@dataclass(frozen=True)
class _Phase:
    """One index range of a search: rows whose ``field`` starts with ``prefix``, in key order.

    ``exclude`` holds the earlier phases' ranges on other fields, so a row matching two phases
    (name and family name) is listed once.
    """

    field: str
    prefix: str
    exclude: tuple[tuple[str, str], ...] = ()


def _range(field: str, prefix: str) -> Q:
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + TOP})


def search_kind(q: str) -> str:
    """How ``q`` is searched: ``email`` (has an @), ``phone`` (digits, + …) or ``name``."""
    if "@" in q:
        return "email"
    if _PHONE_LIKE.match(q) and sum(ch.isdigit() for ch in q) >= 3:
        return "phone"
    return "name"


def phone_prefixes(q: str, region: str) -> list[str]:
    """E.164 prefixes a typed (partial) phone number may stand for.

    ``+4930…`` and ``004930…`` are international already; ``030…`` is national in ``region``
    (its trunk prefix dropped, its country code added); bare ``4930…`` may also be international
    without the plus. A complete number that ``clean_phone`` parses counts as itself.
    """
    import phonenumbers
    from phonenumbers import PhoneMetadata

    from leadbase.lib.cleaning import Invalid, clean_phone

    digits = "".join(ch for ch in q if ch.isdigit())
    if not digits:
        return []
    if q.strip().startswith("+"):
        return ["+" + digits]
    meta = PhoneMetadata.metadata_for_region(region)
    # The region's dialling-out prefix (011 in the US, a pattern in some regions), and 00,
    # which most of the world uses and nobody writes in front of a national number.
    for pattern in ([meta.international_prefix] if meta and meta.international_prefix else []) + [
        "00"
    ]:
        match = re.match(pattern, digits)
        if match and match.end() < len(digits):
            return ["+" + digits[match.end() :]]
    found = set()
    if meta is not None:
        trunk = meta.national_prefix or ""
        national = digits[len(trunk) :] if trunk and digits.startswith(trunk) else digits
        found.add(f"+{phonenumbers.country_code_for_region(region)}{national}")
        try:
            phone = clean_phone(q, region)
        except Invalid:
            phone = None
        if phone is not None:
            found.add(phone.e164)
    if digits[0] != "0":
        found.add("+" + digits)
    # A prefix extended by a shorter one adds nothing, and disjoint ranges keep rows unique.
    kept = sorted(found)
    return [p for p in kept if not any(p != o and p.startswith(o) for o in kept)]


def _search_phases(q: str, region: str) -> list[_Phase]:
    from leadbase.lib.cleaning import name_key

    kind = search_kind(q)
    if kind == "email":
        return [_Phase("email_key", q.strip().lower().removeprefix("mailto:"))]
    if kind == "phone":
        return [_Phase("phone_e164", p) for p in phone_prefixes(q, region)]
    key = name_key(q)
    if not key:
        return []
    return [_Phase("name_key", key), _Phase("family_key", key, exclude=(("name_key", key),))]


def _search(
    qs: QuerySet[Lead], phases: list[_Phase], after: list[Any] | None, limit: int
) -> tuple[list[Lead], str | None]:
    """Walk the phases in order, each in its index order, until ``limit + 1`` rows are found."""
    start, key, last_id = 0, None, None
    if after is not None:
        if len(after) != 3 or not isinstance(after[0], int) or not isinstance(after[2], int):
            raise BadCursor(str(after))
        start, key, last_id = after
    rows: list[tuple[int, Lead]] = []
    for index in range(start, len(phases)):
        phase = phases[index]
        page = qs.filter(_range(phase.field, phase.prefix))
        for field, prefix in phase.exclude:
            page = page.exclude(_range(field, prefix))
        if index == start and key is not None:
            page = page.filter(
                Q(**{f"{phase.field}__gte": key})
                & (Q(**{f"{phase.field}__gt": key}) | Q(id__gt=last_id))
            )
        want = limit + 1 - len(rows)
        rows.extend((index, lead) for lead in page.order_by(phase.field, "id")[:want])
        if len(rows) > limit:
            break
    if len(rows) <= limit:
        return [lead for _, lead in rows], None
    index, last = rows[limit - 1]
    cursor = encode_cursor([index, getattr(last, phases[index].field), last.id])
    return [lead for _, lead in rows[:limit]], cursor


# --- leads ----------------------------------------------------------------------------------


def leads_for_user(
    membership: Membership,
    *,
    q: str | None = None,
    stage: str | None = None,
    source: str | None = None,
    owner: str | int | None = None,
    sort: str = "newest",
    after: str | None = None,
    limit: int = 50,
) -> tuple[list[Lead], str | None]:
    """One page of the leads ``membership`` may see, and the cursor of the next page (or None).

    - ``q`` searches by prefix: an email address (contains ``@``) on the lowercased address, a
      phone number (digits, ``+``) on E.164 with or without the country code, anything else on
      the normalized name and family name (case- and accent-insensitive). Search results come
      in match order (email, phone, name, then family name); ``sort`` applies to browsing.
    - ``stage``, ``source`` and ``owner`` (a user id, or ``"none"`` for unassigned) filter; each
      has an index led by the workspace and ending in ``-id``, so filters page on ``-id``.
    - ``sort``: ``newest`` / ``oldest`` (id), ``name`` (name key, id), ``score`` (score, id),
      each an index order. ``after`` is the cursor returned with the previous page.

    Never counts and never uses OFFSET, so page 1 and page 20,000 cost the same. Raises
    BadCursor for a cursor this function did not make.
    """
    qs = _scoped(membership).select_related("owner").only(*_LIST_COLUMNS)
    if stage:
        qs = qs.filter(stage=stage)
    if source:
        qs = qs.filter(source=source)
    if owner == UNASSIGNED:
        qs = qs.filter(owner__isnull=True)
    elif owner:
        qs = qs.filter(owner_id=int(owner))
    values = decode_cursor(after) if after else None
    q = (q or "").strip()
    if q:
        region = (membership.workspace.default_region or settings.DEFAULT_REGION).upper()
        return _search(qs, _search_phases(q, region), values, limit)
    if (stage or source or owner) and sort in ("name", "score"):
        # A filter's index is (workspace, filter, -id): a name or score order would sort every
        # matching row (seconds for a rare value at a million leads), so filtered pages go by id.
        sort = "newest"
    return _browse(qs, sort if sort in SORTS else "newest", values, limit)


def _browse(
    qs: QuerySet[Lead], sort: str, after: list[Any] | None, limit: int
) -> tuple[list[Lead], str | None]:
    try:
        if sort == "newest":
            order, where = ("-id",), (Q(id__lt=int(after[0])) if after else Q())
        elif sort == "oldest":
            order, where = ("id",), (Q(id__gt=int(after[0])) if after else Q())
        elif sort == "name":
            order = ("name_key", "id")
            key, last_id = (str(after[0]), int(after[1])) if after else (None, None)
            # The leading ``>=`` is a plain index range the database seeks to; the OR only
            # breaks ties inside it.
            where = (
                Q(name_key__gte=key) & (Q(name_key__gt=key) | Q(id__gt=last_id)) if after else Q()
            )
        else:
            order = ("-score", "-id")
            score, last_id = (int(after[0]), int(after[1])) if after else (None, None)
            where = Q(score__lte=score) & (Q(score__lt=score) | Q(id__lt=last_id)) if after else Q()
    except (IndexError, TypeError, ValueError):
        raise BadCursor(str(after)) from None
    rows = list(qs.filter(where).order_by(*order)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    values = {
        "newest": [last.id],
        "oldest": [last.id],
        "name": [last.name_key, last.id],
        "score": [last.score, last.id],
    }[sort]
    return rows[:limit], encode_cursor(values)


def owners_for_user(membership: Membership) -> list[User]:
    """The members a lead can be filtered by (owner filter); empty for ``sales``, who only see
    their own leads."""
    if not membership.sees_all_leads:
        return []
    return list(
        User.objects.filter(memberships__workspace_id=membership.workspace_id).order_by(
            "first_name", "last_name", "email"
        )
    )


def get_lead_for_user(membership: Membership, pk: int, write: bool = False) -> Lead:
    """The lead ``pk`` if ``membership`` may see it (404 otherwise); with ``write`` also check
    that the role may change it (PermissionDenied for viewers).

    A ``sales`` member gets a 404 for a lead they do not own, as for another workspace's lead.
    """
    lead = _scoped(membership).select_related("owner", "workspace").filter(pk=pk).first()
    if lead is None:
        raise Http404("No such lead.")
    if write and not membership.can_write:
        raise PermissionDenied("Your role cannot change leads.")
    return lead


def timeline_for_lead(lead: Lead, limit: int = 200) -> list[Touch]:
    """The lead's touches, newest first (at most ``limit``), each with its actor.

    Owner changes store user ids; their names are attached as ``touch.user_labels`` with one
    more query, only when there are such touches.
    """
    touches = list(
        Touch.objects.filter(lead=lead).select_related("actor").order_by("-at", "-id")[:limit]
    )
    ids = {
        value
        for t in touches
        if t.kind == TouchKind.OWNER_CHANGED
        for value in (t.data.get("from"), t.data.get("to"))
        if isinstance(value, int)
    }
    if ids:
        labels = {user.pk: user.label for user in User.objects.filter(pk__in=ids)}
        for t in touches:
            t.user_labels = labels
    return touches


def merged_away(lead_ids: Iterable[int]) -> dict[int, tuple[int, dict[str, Any]]]:
    """For each of ``lead_ids`` merged into another lead (and deleted), the id of the lead kept
    and the snapshot of the merged lead's contacts, through the merge's timeline entry. The
    entries of a lead merged in turn move with it, so a chain of merges ends at the lead kept."""
    merges = Touch.objects.filter(kind=TouchKind.MERGED, data__merged_lead__in=list(lead_ids))
    return {
        data["merged_lead"]: (kept, data.get("snapshot") or {})
        for kept, data in merges.values_list("lead_id", "data")
    }


def consents_for_lead(lead: Lead) -> list[Consent]:
    """The lead's consent per purpose, with its proof (when, how, the text shown, the IP)."""
    return list(Consent.objects.filter(lead=lead).order_by("purpose"))


@dataclass
class DuplicateOf:
    """An open possible-duplicate pair seen from one lead: the pair and the other lead."""

    pair: PossibleDuplicate
    other: Lead


def possible_duplicates_for_lead(membership: Membership, lead: Lead) -> list[DuplicateOf]:
    """Open possible duplicates on either side of ``lead``, with the other lead (and its owner).

    Only the pairs ``membership`` may see: for a ``sales`` member both leads must be theirs, so
    their lead's page neither shows another rep's lead nor offers a merge that would be refused.
    """
    pairs = (
        _visible_pairs(membership)
        .filter(Q(lead_a=lead) | Q(lead_b=lead))
        .select_related("lead_a__owner", "lead_b__owner")
        .order_by("id")
    )
    return [DuplicateOf(p, p.lead_b if p.lead_a_id == lead.pk else p.lead_a) for p in pairs]


def _visible_pairs(membership: Membership) -> QuerySet[PossibleDuplicate]:
    qs = PossibleDuplicate.objects.filter(
        workspace_id=membership.workspace_id, status=DuplicateStatus.OPEN
    )
    if not membership.sees_all_leads:
        qs = qs.filter(lead_a__owner_id=membership.user_id, lead_b__owner_id=membership.user_id)
    return qs


def duplicates_for_user(
    membership: Membership, *, after: str | None = None, limit: int = 50
) -> tuple[list[PossibleDuplicate], str | None]:
    """Open possible duplicates to review, newest first, keyset-paginated on the pair id.

    A ``sales`` member sees the pairs whose two leads are both theirs.
    """
    qs = _visible_pairs(membership).select_related("lead_a__owner", "lead_b__owner").order_by("-id")
    if after:
        try:
            qs = qs.filter(id__lt=int(decode_cursor(after)[0]))
        except (TypeError, ValueError):
            raise BadCursor(after) from None
    rows = list(qs[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor([rows[limit - 1].id])


def get_duplicate_for_user(
    membership: Membership, pk: int, write: bool = False
) -> PossibleDuplicate:
    """The open pair ``pk`` when ``membership`` may see both leads (404 otherwise); with
    ``write`` also check the role may change leads (PermissionDenied for viewers)."""
    pair = _visible_pairs(membership).select_related("lead_a", "lead_b").filter(pk=pk).first()
    if pair is None:
        raise Http404("No such possible duplicate (it may have been reviewed already).")
    if write and not membership.can_write:
        raise PermissionDenied("Your role cannot merge or dismiss leads.")
    return pair


def home_counts(membership: Membership) -> dict[str, Any]:
    """Counts for the home page, over the leads ``membership`` may see.

    ``stages``: [(value, label, count)] in funnel order; ``total``; ``new_this_week`` (created
    in the last 7 days); ``duplicates`` (open pairs to review). Over a whole workspace each stage
    is one COUNT over its own range of the (workspace, stage, id) index: SQLite counts index
    entries without grouping them, 2.4 times faster than one grouped scan (37 ms against 88 ms
    at a million leads). A sales rep's own leads are few: one grouped query over the owner index.
    The week is a range on created_at.
    """
    since = timezone.now() - timedelta(days=7)
    scoped = _scoped(membership)
    if membership.sees_all_leads:
        grouped = {value: scoped.filter(stage=value).count() for value in Stage.values}
    else:
        grouped = dict(scoped.values_list("stage").annotate(n=Count("id")).order_by())
    stages = [(value, label, grouped.get(value, 0)) for value, label in Stage.choices]
    return {
        "stages": stages,
        "total": sum(grouped.values()),
        "new_this_week": scoped.filter(created_at__gte=since).count(),
        "duplicates": _visible_pairs(membership).count(),
    }


# --- imports --------------------------------------------------------------------------------


def _check_imports(membership: Membership) -> None:
    if not membership.can_manage:
        raise PermissionDenied("Only owners and marketers can import leads.")


def imports_for_user(membership: Membership, limit: int = 50) -> list[ImportJob]:
    """The workspace's latest imports, newest first (owners and marketers only)."""
    _check_imports(membership)
    return list(
        ImportJob.objects.filter(workspace_id=membership.workspace_id)
        .select_related("created_by")
        .order_by("-id")[:limit]
    )


def get_import_for_user(membership: Membership, pk: int) -> ImportJob:
    """The import ``pk`` of the member's workspace (404 otherwise; PermissionDenied unless the
    role may import)."""
    _check_imports(membership)
    job = (
        ImportJob.objects.filter(workspace_id=membership.workspace_id, pk=pk)
        .select_related("created_by")
        .first()
    )
    if job is None:
        raise Http404("No such import.")
    return job

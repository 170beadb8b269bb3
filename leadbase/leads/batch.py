"""Write clean candidates as leads: the one code path behind import, forms, API and manual entry.

``apply_batch`` takes candidates (or refusals) in order and, inside the caller's transaction:
refuses suppressed contacts, matches each candidate to a known lead (one query for the batch,
plus the leads created earlier in the same batch), inserts the new leads and their touches with
``executemany``, and updates merged leads once each. A single form post is a batch of one; an
import is batches of a few thousand rows. Every decision is the same.

Concurrency: on SQLite the transaction holds the database write lock from BEGIN (IMMEDIATE). On
PostgreSQL a transaction-scoped advisory lock per workspace serializes identity decisions, so two
simultaneous posts of one address cannot create two people.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from django.db import connection
from django.utils import timezone

from leadbase.leads.duplicates import suggest_pairs
from leadbase.leads.identity import (
    KNOWN_COLUMNS,
    IdentityIndex,
    KeyFilter,
    Known,
    candidate_as_known,
    merge_into,
)
from leadbase.leads.models import (
    Consent,
    ConsentStatus,
    Lead,
    LeadAlias,
    Suppression,
    SuppressionReason,
    Touch,
    TouchKind,
)
from leadbase.leads.signals import announce, leads_created, leads_updated
from leadbase.lib.leadrow import Candidate, Refusal, warning_codes
from leadbase.rows import IN_CHUNK, allocate_ids, json_dumps, select_in


def contact_hash(kind: str, value: str) -> str:
    """The stored form of a suppressed contact: SHA-256 of ``kind:normalized value``."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


@dataclass(slots=True)
class Context:
    """Who writes and why; shared by every row of a batch."""

    workspace_id: int
    source: str
    source_ref: str = ""
    actor_id: int | None = None
    actor_label: str = ""
    created_kind: str = TouchKind.CREATED
    #: Touch data per created/merged lead, e.g. {"import": 3}; the row key is added for imports.
    touch_data: dict[str, Any] = field(default_factory=dict)
    row_key_name: str = ""  # "row" for imports: each touch records the file row
    #: The last touch each row moves its lead to, by row key (forms and API, each post from its
    #: own page); None leaves the leads' last touch alone (imports).
    last_touches: dict[Any, dict[str, Any]] | None = None
    owner_id: int | None = None

    @property
    def update_last_touch(self) -> bool:
        return self.last_touches is not None


@dataclass(slots=True)
class Outcome:
    key: Any  # the caller's row number or identifier
    outcome: str  # created | merged | rejected
    lead_id: int | None = None
    code: str = ""
    message: str = ""
    warnings: list[tuple[str, str]] = field(default_factory=list)


def lock_workspace(workspace_id: int) -> None:
    """Serialize identity decisions for one workspace until the transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x4C42, workspace_id])


def apply_batch(
    ctx: Context, items: Sequence[tuple[Any, Candidate | Refusal]], keys: KeyFilter | None = None
) -> list[Outcome]:
    """Create or merge every candidate of ``items``; must run inside ``transaction.atomic``.

    ``keys``, when given, must hold every contact key on a lead of the workspace and every
    alias (see KeyFilter): contacts it has never seen are not looked up. It takes this
    batch's keys (an alias the batch sets aside is one of them).
    """
    lock_workspace(ctx.workspace_id)
    candidates = [c for _, c in items if isinstance(c, Candidate)]
    any_suppression, any_alias = _has_suppressions_and_aliases(ctx.workspace_id)
    blocked = _suppressed(ctx.workspace_id, candidates, any_suppression)
    emails, phones, matchable = _contacts(candidates, keys)
    index = IdentityIndex(_load_known(ctx.workspace_id, emails, phones, any_alias))
    now = timezone.now()

    outcomes: list[Outcome] = []
    new: list[tuple[Known, Candidate, Outcome]] = []
    merged: dict[int, tuple[Known, list[tuple[Outcome, dict, dict]]]] = {}
    flags: list[tuple[Known, Known]] = []
    into_new: list[tuple[Outcome, Known, dict, dict]] = []
    aliases: list[tuple[Known, str, str]] = []
    for key, c in items:
        if isinstance(c, Refusal):
            outcomes.append(Outcome(key, "rejected", code=c.code, message=c.message))
            continue
        refusal = _suppression_refusal(c, blocked)
        if refusal is not None:
            outcomes.append(Outcome(key, "rejected", code="suppressed", message=refusal))
            continue
        warnings = warning_codes(c) if c.problems else []
        if matchable is not None and c.email_key not in matchable and c.phone_e164 not in matchable:
            # Contacts no lead may have and no other row of the batch has: a new person, whom
            # no later row of the batch can match either (most rows of a first import).
            outcome = Outcome(key, "created", warnings=warnings)
            new.append((candidate_as_known(c), c, outcome))
            outcomes.append(outcome)
            continue
        lead, shared = index.match(c)
        if lead is None:
            known = candidate_as_known(c)
            outcome = Outcome(key, "created", warnings=warnings)
            new.append((known, c, outcome))
            index.add(known)
            if shared:
                flags.extend((other, known) for other in shared)
        else:
            outcome = Outcome(key, "merged", lead_id=lead["id"], warnings=warnings)
            changes, conflicts = merge_into(lead, c)
            # A contact set aside still reaches this person: later records with it must match.
            for kind, value in (("email", c.email_key), ("phone", c.phone_e164)):
                if kind in conflicts and value:
                    aliases.append((lead, kind, value))
                    index.add_alias(lead, kind, value)
            if lead["id"] is not None:
                merged.setdefault(lead["id"], (lead, []))[1].append((outcome, changes, conflicts))
            else:
                into_new.append((outcome, lead, changes, conflicts))  # its id comes below
        outcomes.append(outcome)

    merged_new: dict[int, tuple[Known, list]] = {}
    latest: dict[int, Any] = {}  # new lead id -> key of the batch's last row that is this person
    if new:
        ids = allocate_ids(Lead, len(new))
        for lead_id, (known, _, outcome) in zip(ids, new):
            known["id"] = outcome.lead_id = lead_id
        for outcome, lead, changes, conflicts in into_new:
            outcome.lead_id = lead["id"]
            latest[lead["id"]] = outcome.key
            # A later row of the batch that is the same person: its values are already in the
            # inserted row; its timeline entry is written like a merge into an existing lead.
            merged_new.setdefault(lead["id"], (lead, []))[1].append((outcome, changes, conflicts))
        _insert_leads(ctx, new, now, latest)
    _update_merged(ctx, merged, now)
    _insert_touches(ctx, new, {**merged, **merged_new}, now)
    if flags:
        _flag_shared_mailboxes(ctx.workspace_id, flags)
    if aliases:
        LeadAlias.objects.bulk_create(
            [LeadAlias(workspace_id=ctx.workspace_id, lead_id=lead["id"], kind=kind, key=key)
             for lead, kind, key in aliases],
            ignore_conflicts=True,
        )
    _announce(ctx, [known["id"] for known, _, _ in new],
              [i for i, (_, events) in merged.items() if any(changes for _, changes, _ in events)])
    return outcomes


def identity_conflict(workspace_id: int, c: Candidate, *, exclude_id: int) -> tuple[str, str, str] | None:
    """Why lead ``exclude_id`` may not take the contacts of ``c``: (code, message, field), or None.

    An edit follows the same rules as a create: a suppressed contact is refused, and a contact
    that makes the lead the same person as another lead is refused (merge them instead), rather
    than silently leaving two records of one person.
    """
    refusal = _suppression_refusal(c, _suppressed(workspace_id, [c]))
    if refusal is not None:
        return "suppressed", refusal, "email" if c.email_key else "phone"
    emails, phones, _ = _contacts([c])
    others = [known for known in _load_known(workspace_id, emails, phones) if known["id"] != exclude_id]
    other, _ = IdentityIndex(others).match(c)
    if other is None:
        return None
    field = "email" if c.email_key and other["email_key"] == c.email_key else "phone"
    return (
        "duplicate",
        f"Lead #{other['id']} ({other['name']}) already has this {field}: it is the same person, "
        "so merge the two leads instead.",
        field,
    )


def _announce(ctx: Context, created: list[int], updated: list[int]) -> None:
    """Send the lead events within the batch's transaction (see leadbase.leads.signals)."""
    ws = ctx.workspace_id
    if created and leads_created.has_listeners():
        announce(leads_created, Lead, workspace_id=ws, lead_ids=created, source=ctx.source)
    if updated and leads_updated.has_listeners():
        announce(leads_updated, Lead, workspace_id=ws, lead_ids=updated)


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def _select_in(sql: str, head: list[Any], values: Sequence[str]) -> list[tuple]:
    """Run ``sql`` (ending in ``IN ({})``) for ``values`` in chunks; raw SQL because the ORM's
    per-value lookup preparation costs more than the indexed lookups themselves here."""
    rows: list[tuple] = []
    with connection.cursor() as cur:
        for chunk in _chunks(values):
            cur.execute(sql.format(", ".join(["%s"] * len(chunk))), [*head, *chunk])
            rows.extend(cur.fetchall())
    return rows


def _contacts(
    candidates: list[Candidate], keys: KeyFilter | None = None
) -> tuple[Iterable[str], Iterable[str], set[str] | None]:
    """The email keys and phones of ``candidates`` to look up, and, with a filter, the contacts
    a row may be matched by (the others are on no lead and on no other row); None: any."""
    emails = [c.email_key for c in candidates if c.email_key]
    phones = [c.phone_e164 for c in candidates if c.phone_e164]
    if keys is None:
        return set(emails), set(phones), None
    # Records every key of the batch too: each one a new or merged lead may take (a merge fills
    # blanks) or an alias the batch sets aside.
    maybe_emails, maybe_phones = keys.take(set(emails)), keys.take(set(phones))
    matchable = {*maybe_emails, *maybe_phones}
    for contacts in (emails, phones):
        matchable.update(key for key, count in Counter(contacts).items() if count > 1)
    return maybe_emails, maybe_phones, matchable


def _has_suppressions_and_aliases(workspace_id: int) -> tuple[bool, bool]:
    """Whether the workspace has any suppression, and any alias, asked with one statement: in
    most workspaces neither, and then a batch looks neither up."""
    tables = [f'"{model._meta.db_table}"' for model in (Suppression, LeadAlias)]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT " + ", ".join(f'EXISTS (SELECT 1 FROM {t} WHERE "workspace_id" = %s)' for t in tables),
            [workspace_id] * len(tables),
        )
        suppressions, aliases = cur.fetchone()
    return bool(suppressions), bool(aliases)


def _load_known(
    workspace_id: int, emails: Iterable[str], phones: Iterable[str], any_alias: bool | None = None
) -> list[Known]:
    """The leads that have one of these email keys or phone numbers, or one as an alias
    (``any_alias``: whether the workspace has aliases, when the caller knows)."""
    aliased = _aliases(workspace_id, emails, phones) if any_alias is not False else {}
    emails, phones = sorted(emails), sorted(phones)
    table = Lead._meta.db_table
    select = ", ".join(f'"{c}"' for c in KNOWN_COLUMNS)
    found: dict[int, Known] = {}
    by = f'SELECT {select} FROM "{table}" WHERE "workspace_id" = %s AND "{{}}" IN ({{{{}}}})'
    if emails and phones and len(emails) + len(phones) <= IN_CHUNK:  # a form post: one statement
        sql = f'{by.format("email_key")} UNION ALL {by.format("phone_e164")}'
        with connection.cursor() as cur:
            cur.execute(
                sql.format(", ".join(["%s"] * len(emails)), ", ".join(["%s"] * len(phones))),
                [workspace_id, *emails, workspace_id, *phones],
            )
            rows = cur.fetchall()
    else:
        rows = [row for column, values in (("email_key", emails), ("phone_e164", phones))
                for row in _select_in(by.format(column), [workspace_id], values)]
    for row in rows:
        if row[0] not in found:
            found[row[0]] = _as_known(row)
    missing = sorted(set(aliased) - found.keys())
    if missing:
        sql = f'SELECT {select} FROM "{table}" WHERE "workspace_id" = %s AND "id" IN ({{}})'
        for row in _select_in(sql, [workspace_id], missing):
            found[row[0]] = _as_known(row)
    for lead_id, contacts in aliased.items():
        if lead_id in found:
            found[lead_id]["_aliases"] = contacts
    return [found[k] for k in sorted(found)]  # oldest first: the first match wins


def _aliases(workspace_id: int, emails: Iterable[str], phones: Iterable[str]) -> dict[int, list[tuple[str, str]]]:
    """The leads that answer to one of these contacts as an alias: lead id -> [(kind, key)]."""
    table = LeadAlias._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f'SELECT 1 FROM "{table}" WHERE "workspace_id" = %s LIMIT 1', [workspace_id])
        if cur.fetchone() is None:
            return {}  # the common case: no merge ever set a contact aside
    found: dict[int, list[tuple[str, str]]] = {}
    for kind, values in (("email", emails), ("phone", phones)):
        sql = (f'SELECT "lead_id", "key" FROM "{table}" WHERE "workspace_id" = %s AND "kind" = %s '
               f'AND "key" IN ({{}})')
        for lead_id, key in _select_in(sql, [workspace_id, kind], sorted(values)):
            found.setdefault(lead_id, []).append((kind, key))
    return found


def _as_known(row: tuple) -> Known:
    known = dict(zip(KNOWN_COLUMNS, row))
    for col in JSON_COLUMNS & known.keys():
        if isinstance(known[col], str):  # SQLite returns JSON as text
            known[col] = json.loads(known[col])
    return known


def _suppressed(workspace_id: int, candidates: list[Candidate], any_suppression: bool | None = None) -> dict[str, str]:
    """Map contact hash -> suppression reason, for the contacts of this batch that have one
    (``any_suppression``: whether the workspace has any, when the caller knows)."""
    table = Suppression._meta.db_table
    if any_suppression is None:
        with connection.cursor() as cur:
            cur.execute(f'SELECT 1 FROM "{table}" WHERE "workspace_id" = %s LIMIT 1', [workspace_id])
            any_suppression = cur.fetchone() is not None
    if not any_suppression:
        return {}  # the common case: skip hashing every contact of the batch
    hashes = [contact_hash("email", c.email_key) for c in candidates if c.email_key]
    hashes += [contact_hash("phone", c.phone_e164) for c in candidates if c.phone_e164]
    sql = f'SELECT "value_hash", "reason" FROM "{table}" WHERE "workspace_id" = %s AND "value_hash" IN ({{}})'
    return dict(_select_in(sql, [workspace_id], sorted(set(hashes))))


def _suppression_refusal(c: Candidate, blocked: dict[str, str]) -> str | None:
    """Why ``c`` may not become a lead, or None.

    An erased person is never brought back; otherwise a lead is refused only when every contact
    channel it has is suppressed (it could never be reached).
    """
    if not blocked:
        return None
    reasons = []
    if c.email_key:
        reasons.append(blocked.get(contact_hash("email", c.email_key)))
    if c.phone_e164:
        reasons.append(blocked.get(contact_hash("phone", c.phone_e164)))
    if SuppressionReason.ERASED in reasons:
        return "This person asked to be erased; their contact details may not be stored again."
    if all(reasons):
        return "Every contact channel of this person is on the suppression list (" + ", ".join(
            SuppressionReason(r).label.lower() for r in reasons
        ) + ")."
    return None


def _adapt_json(value: Any) -> Any:
    return _json_adapter()(value)


def _json_adapter() -> Any:
    """The function that turns a value into a JSON column parameter for this database; looked up
    once per batch (the connection proxy is slow to reach a million times)."""
    if connection.vendor == "sqlite":
        return json_dumps  # what Django stores, without its per-call overhead
    ops = connection.ops
    return lambda value: ops.adapt_json_value(value, None)


#: Candidate fields stored as they are (name … referrer, all but email_is_role), by position.
_FIELDS = Candidate._fields
_STORED = tuple(i for i, f in enumerate(_FIELDS[: _FIELDS.index("custom")]) if f != "email_is_role")
_CUSTOM, _PROBLEMS = _FIELDS.index("custom"), _FIELDS.index("problems")


def _sql_literal(value: int | str | None) -> str:
    """A value the code itself chose (an id, a stage, a kind), written into the statement.

    Written once into an ``executemany`` statement instead of bound on every row, because
    binding costs per parameter and per row. Never used for text a user typed.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"not a literal: {value!r}")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def _insert_sql(model: type, columns: Sequence[str], constants: dict[str, Any] | None = None) -> str:
    """INSERT with one parameter per column of ``columns``, and the ``constants`` written in."""
    constants = constants or {}
    names = ", ".join(f'"{c}"' for c in (*columns, *constants))
    values = ", ".join(["%s"] * len(columns) + [_sql_literal(v) for v in constants.values()])
    return f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES ({values})'


def _insert_leads(
    ctx: Context, new: list[tuple[Known, Candidate, Outcome]], now: datetime, latest: dict[int, Any]
) -> None:
    """Insert the batch's new leads with one ``executemany``.

    Binding costs per parameter and per row (on SQLite about 0.18 µs each: 5 s of a million-row
    import went to binding 28 parameters a row), so a column that holds the same code-chosen
    value on every row of the batch — an empty field no row fills (UTM tags, referrer), the
    timestamps, an empty JSON value — is written into the statement instead of bound each time.
    """
    adapt = _json_adapter()
    empty = adapt({})
    literal_json = isinstance(empty, str)  # SQLite: JSON is text (PostgreSQL adapts each value)
    at = connection.ops.adapt_datetimefield_value(now)
    # Each row laid out as a Candidate: the candidate itself, or, for a lead a later row of the
    # batch merged into, its values (expanded from the candidate, then merged).
    shaped = [c if "_candidate" in known else tuple(known[f] for f in _FIELDS) for known, c, _ in new]
    fixed: dict[str, Any] = {}
    # Built column by column (zip makes the rows at C speed): a column a value per row.
    columns: dict[str, Iterable[Any]] = {"id": [known["id"] for known, _, _ in new]}
    for i in _STORED:
        if not any(map(itemgetter(i), shaped)):  # stops at the first value
            kinds = set(map(itemgetter(i), shaped))
            if len(kinds) == 1:  # all "" or all None
                fixed[_FIELDS[i]] = kinds.pop()
                continue
        columns[_FIELDS[i]] = map(itemgetter(i), shaped)
    json_values = {
        "custom": list(map(itemgetter(_CUSTOM), shaped)),
        "problems": list(map(itemgetter(_PROBLEMS), shaped)),
        "alternates": [known["alternates"] for known, _, _ in new],
    }
    for name, values in json_values.items():
        if literal_json and not any(values):
            fixed[name] = empty
        else:
            columns[name] = [adapt(value) if value else empty for value in values]
    columns["source_ref"] = itertools.repeat(ctx.source_ref[:200])
    if ctx.last_touches is not None:
        stamp = {"at": now.isoformat()}
        touches = ctx.last_touches
        columns["last_touch"] = [adapt(touches[latest.get(known["id"], outcome.key)] | stamp)
                                 for known, _, outcome in new]
    elif literal_json:
        fixed["last_touch"] = empty
    else:
        columns["last_touch"] = itertools.repeat(empty)
    for name in ("created_at", "updated_at"):
        if isinstance(at, str):  # SQLite: the ISO text
            fixed[name] = at
        else:
            columns[name] = itertools.repeat(at)
    constants = {
        "workspace_id": ctx.workspace_id, "source": ctx.source, "stage": "new", "disqualified_reason": "",
        "score": 0, "owner_id": ctx.owner_id, **fixed,
    }
    with connection.cursor() as cur:
        cur.executemany(_insert_sql(Lead, list(columns), constants), list(zip(*columns.values())))


UPDATE_COLUMNS = (
    "email", "email_key", "phone", "phone_e164", "phone_ext", "company", "job_title", "country",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer",
    "custom", "problems", "alternates",
)
JSON_COLUMNS = {"custom", "problems", "alternates", "last_touch"}


def _update_merged(ctx: Context, merged: dict[int, tuple[Known, list]], now: datetime) -> None:
    at = connection.ops.adapt_datetimefield_value(now)
    columns = list(UPDATE_COLUMNS)
    if ctx.update_last_touch:
        columns.append("last_touch")
    rows = []
    for lead_id, (lead, events) in merged.items():
        if not ctx.update_last_touch and not any(changes for _, changes, _ in events):
            continue
        if ctx.update_last_touch:
            lead["last_touch"] = ctx.last_touches[events[-1][0].key] | {"at": now.isoformat()}
        values = [_adapt_json(lead.get(c) or {}) if c in JSON_COLUMNS else lead.get(c) for c in columns]
        rows.append((*values, at, lead_id))
    if rows:
        assignments = ", ".join(f'"{c}" = %s' for c in (*columns, "updated_at"))
        with connection.cursor() as cur:
            cur.executemany(f'UPDATE "{Lead._meta.db_table}" SET {assignments} WHERE id = %s', rows)


TOUCH_COLUMNS = ("lead_id", "at", "actor_label", "data")


def _insert_touches(
    ctx: Context, new: list[tuple[Known, Candidate, Outcome]], merged: dict[int, tuple[Known, list]], now: datetime
) -> None:
    at = connection.ops.adapt_datetimefield_value(now)
    label = ctx.actor_label[:200]

    def data(outcome: Outcome, extra: dict[str, Any] | None = None) -> Any:
        payload = dict(ctx.touch_data)
        if ctx.row_key_name:
            payload[ctx.row_key_name] = outcome.key
        if extra:
            payload.update(extra)
        return _adapt_json(payload)

    constants = {"workspace_id": ctx.workspace_id, "actor_id": ctx.actor_id}
    created = []
    if ctx.row_key_name and connection.vendor == "sqlite" and new and _consecutive(new):
        _insert_numbered_touches(ctx, new, at, label, {**constants, "kind": str(ctx.created_kind)})
    else:
        created = [(known["id"], at, label, data(outcome)) for known, _, outcome in new]
    later = []
    for lead_id, (_, events) in merged.items():
        for outcome, changes, conflicts in events:
            if not changes and not ctx.update_last_touch:
                continue  # nothing new: a re-import leaves no trace
            filled = sorted(k for k in changes if k not in ("custom", "problems", "alternates"))
            extra = {"filled": filled, "conflicts": conflicts} if (filled or conflicts) else {}
            later.append((lead_id, at, label, data(outcome, extra)))
    later_kind = ctx.created_kind if ctx.update_last_touch else TouchKind.MERGED
    with connection.cursor() as cur:
        for kind, rows in ((ctx.created_kind, created), (later_kind, later)):
            if rows:
                cur.executemany(_insert_sql(Touch, TOUCH_COLUMNS, {**constants, "kind": str(kind)}), rows)


CONSENT_COLUMNS = ("lead_id", "purpose", "status", "at", "method", "text", "ip", "source_ref")


def insert_new_consents(
    rows: list[tuple[int, int, str, str, str, str | None]], *, at: datetime, method: str, source_ref: str
) -> None:
    """Insert ``(workspace_id, lead_id, purpose, status, text, ip)`` consents of leads that have
    none yet, each with its timeline entry, as ``Consent`` and ``Touch`` rows would be saved.

    With plain parameters rather than model instances: a group of form posts writes one per
    post while it holds SQLite's write lock, and building and preparing two instances a post
    cost more than the inserts (the values are checked by the caller).
    """
    if rows:
        _write_consents(_insert_sql(Consent, CONSENT_COLUMNS), rows, rows, at, method, source_ref)


def upsert_consents(
    answers: list[tuple[int, int, str, str, str, str | None]], *, at: datetime, method: str, source_ref: str
) -> None:
    """Record ``(workspace_id, lead_id, purpose, status, text, ip)`` answers, in order, of leads
    that may have consents already: the latest answer of a purpose replaces the consent and its
    proof, except that a pending one never replaces a granted one (it is then left out, timeline
    entry included). Each answer kept gets its timeline entry.

    One read of the leads' consents (locked on PostgreSQL until the transaction ends) and one
    upsert, instead of about ten statements an answer: the path of a group of form posts by
    people already known. The upsert keeps the pending-after-granted rule itself too.
    """
    if not answers:
        return
    current = {
        (lead, purpose): status
        for lead, purpose, status in select_in(
            Consent, ("lead_id", "purpose", "status"), "lead_id", sorted({a[1] for a in answers}), for_update=True
        )
    }
    kept, final = [], {}
    for answer in answers:
        key, status = (answer[1], str(answer[2])), str(answer[3])
        if status == ConsentStatus.PENDING and current.get(key) == ConsentStatus.GRANTED:
            continue
        current[key] = status
        kept.append(answer)
        final[key] = answer  # a later answer of the same purpose replaces an earlier one
    if not kept:
        return
    table, quote = Consent._meta.db_table, connection.ops.quote_name
    proof = [c for c in CONSENT_COLUMNS if c not in ("lead_id", "purpose")]
    sql = (
        f"{_insert_sql(Consent, CONSENT_COLUMNS)} ON CONFLICT ({quote('lead_id')}, {quote('purpose')}) DO UPDATE SET "
        + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in proof)
        + f" WHERE NOT ({quote(table)}.{quote('status')} = '{ConsentStatus.GRANTED.value}'"
        f" AND excluded.{quote('status')} = '{ConsentStatus.PENDING.value}')"
    )
    _write_consents(sql, list(final.values()), kept, at, method, source_ref)


def _write_consents(
    sql: str,
    consents: list[tuple[int, int, str, str, str, str | None]],
    touches: list[tuple[int, int, str, str, str, str | None]],
    at: datetime, method: str, source_ref: str,
) -> None:
    """Run ``sql`` (an INSERT of ``CONSENT_COLUMNS``) for ``consents``, and insert a consent
    timeline entry for each of ``touches``, all stamped ``at``."""
    stamp = connection.ops.adapt_datetimefield_value(at)
    adapt = _json_adapter()
    address = Consent._meta.get_field("ip").get_db_prep_save  # IPv6 written in its short form
    touch_columns = ("workspace_id", "lead_id", "kind", "at", "actor_id", "actor_label", "data")
    with connection.cursor() as cur:
        cur.executemany(
            sql,
            [
                (lead, str(purpose), str(status), stamp, method, text, address(ip, connection), source_ref)
                for _, lead, purpose, status, text, ip in consents
            ],
        )
        cur.executemany(
            _insert_sql(Touch, touch_columns),
            [
                (workspace, lead, TouchKind.CONSENT.value, stamp, None, "",
                 adapt({"purpose": str(purpose), "status": str(status), "method": method, "source_ref": source_ref}
                       | ({"ip": str(ip)} if ip else {})))
                for workspace, lead, purpose, status, _, ip in touches
            ],
        )


def _consecutive(new: list[tuple[Known, Candidate, Outcome]]) -> bool:
    """Whether the new leads have consecutive ids in order (as ``allocate_ids`` gives them)."""
    return new[-1][0]["id"] - new[0][0]["id"] == len(new) - 1


def _insert_numbered_touches(
    ctx: Context, new: list[tuple[Known, Candidate, Outcome]], at: Any, label: str, constants: dict[str, Any]
) -> None:
    """The created leads' touches of an import, ``{…, "row": 17}``, in one statement (SQLite).

    A million-row import writes a million of these. Rather than a Python tuple and four bound
    parameters per row, the statement gets the file rows as one JSON array and SQLite builds
    every touch from it: the n-th element is the row of lead ``first id + n``. The data is the
    text ``json.dumps`` writes for ``touch_data`` plus the row (row keys are ints).
    """
    prefix = json.dumps(ctx.touch_data)[:-1] + (", " if ctx.touch_data else "") + f'"{ctx.row_key_name}": '
    rows = "[" + ",".join([str(int(outcome.key)) for _, _, outcome in new]) + "]"
    names = ", ".join(f'"{c}"' for c in (*TOUCH_COLUMNS, *constants))
    values = ", ".join(["%s + \"key\"", "%s", "%s", "%s || \"value\" || '}'", *map(_sql_literal, constants.values())])
    with connection.cursor() as cur:
        cur.execute(
            f'INSERT INTO "{Touch._meta.db_table}" ({names}) SELECT {values} FROM json_each(%s) ORDER BY "key"',
            [new[0][0]["id"], at, label, prefix, rows],
        )


def _flag_shared_mailboxes(workspace_id: int, pairs: list[tuple[Known, Known]]) -> None:
    suggest_pairs(workspace_id, [(*sorted((a["id"], b["id"])), "shared_mailbox") for a, b in pairs])

"""One record per person: match a clean candidate to a known lead, and merge values.

Rules (issue #2):
- same normalized email → same person, unless the address is a shared role mailbox (``info@``…)
  and the names clearly belong to different people: then both are kept and flagged;
- same E.164 phone → same person only when the names agree (a household or office line shared
  by two people must not merge them);
- merging fills blanks; where values conflict the lead keeps its own and the other value is kept
  in ``alternates`` (and told in the timeline), so nothing a person typed is lost;
- an email or phone set aside that way stays an identity of the lead (an *alias*, ``LeadAlias``):
  the index files the lead under it too, so a later record with it matches the same person.

The index works on plain dicts (``Known``) so the importer can match a whole batch, including
rows created earlier in the same batch, with one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from leadbase.lib.cleaning import names_agree, names_clearly_differ
from leadbase.lib.leadrow import Candidate

#: Fields merged by "fill the blank, keep the other value aside on conflict".
MERGED_FIELDS = (
    "email", "phone", "company", "job_title", "country",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer",
)
#: The first touch: kept as a unit, so that it is one visit's tags (see ``merge_into``).
FIRST_TOUCH = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer")
#: Fields that come along with a merged field (normalized forms).
COMPANION = {"email": ("email_key",), "phone": ("phone_e164", "phone_ext")}
#: Columns loaded for matching and merging.
KNOWN_COLUMNS = (
    "id", "name", "email_key", "phone_e164", "phone_ext", "custom", "problems", "alternates",
    *MERGED_FIELDS,
)

Known = dict[str, Any]


class IdentityIndex:
    """Known leads by email key and by phone, in the order they were added (oldest first)."""

    def __init__(self, known: Iterable[Known] = ()) -> None:
        self.by_email: dict[str, list[Known]] = defaultdict(list)
        self.by_phone: dict[str, list[Known]] = defaultdict(list)
        for lead in known:
            self.add(lead)

    def add(self, lead: Known) -> None:
        if lead["email_key"]:
            self.by_email[lead["email_key"]].append(lead)
        if lead["phone_e164"]:
            self.by_phone[lead["phone_e164"]].append(lead)
        for kind, key in lead.get("_aliases", ()):
            self.add_alias(lead, kind, key)

    def add_alias(self, lead: Known, kind: str, key: str) -> None:
        """Index ``lead`` under another contact it answers to (``kind`` email or phone)."""
        entries = (self.by_email if kind == "email" else self.by_phone)[key]
        if not any(entry is lead for entry in entries):
            entries.append(lead)

    def match(self, c: Candidate) -> tuple[Known | None, list[Known]]:
        """Return (the lead that is this person or None, leads to flag as sharing a mailbox)."""
        if c.email_key:
            same_email = self.by_email.get(c.email_key, [])
            if same_email:
                if not c.email_is_role:
                    return same_email[0], []
                for lead in same_email:
                    if not names_clearly_differ(lead["name"], c.name):
                        return lead, []
                return None, list(same_email)
        if c.phone_e164:
            for lead in self.by_phone.get(c.phone_e164, []):
                if names_agree(lead["name"], c.name):
                    return lead, []
        return None, []


def candidate_as_known(c: Candidate) -> Known:
    """A new lead as the index sees it: just what matching needs, plus the candidate itself.

    The full set of values is only spelled out (``expand``) when a later row merges into it —
    about one new lead in twenty — which keeps the common path cheap on a million-row import.
    """
    return {"id": None, "name": c.name, "email_key": c.email_key, "phone_e164": c.phone_e164,
            "alternates": {}, "_candidate": c}


def expand(lead: Known) -> Known:
    """Give a new lead's index entry all its values (in place, so the index keeps pointing at it)."""
    c = lead.pop("_candidate", None)
    if c is not None:
        for key, value in c._asdict().items():
            lead.setdefault(key, value)
    return lead


def merge_into(lead: Known, c: Candidate) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge candidate values into ``lead`` in place.

    Returns (changes, conflicts): the fields whose value changed on the lead, and the values of
    the candidate that conflicted and were added to ``alternates``. Both are empty when the
    candidate brings nothing new, which is what makes re-importing a file change nothing.

    A blank field takes the candidate's value, except in the first touch (``FIRST_TOUCH``): a
    lead with any of those set keeps them as they are, the others blank (a second visit's
    campaign would join the first visit's source in a touch that never happened), and other
    values are no conflict either (they are another visit's attribution, not the person's). A
    lead without any takes the candidate's whole first touch.
    """
    expand(lead)
    changes: dict[str, Any] = {}
    conflicts: dict[str, Any] = {}
    touched = any(lead.get(name) for name in FIRST_TOUCH)
    for name in MERGED_FIELDS:
        new = getattr(c, name)
        if not new:
            continue
        old = lead.get(name) or ""
        if touched and name in FIRST_TOUCH:
            # Kept as it is. Another visit's tags are not another value of the person to set
            # aside for correction: they are that visit's attribution (a form post's last touch).
            continue
        if name == "email" and c.email_key is None:
            continue  # an invalid address never replaces or conflicts with anything
        if name == "phone" and c.phone_e164 is None:
            continue
        valid_old = _has_valid(lead, name)
        if not old or not valid_old:
            changes[name] = new
            for companion in COMPANION.get(name, ()):
                changes[companion] = getattr(c, companion)
            continue
        if _same(lead, c, name):
            continue
        seen = lead.get("alternates", {}).get(name, [])
        if name == "email":  # the same address typed in another case is not news
            if c.email_key not in {str(v).lower() for v in seen}:
                conflicts[name] = new
        elif new not in seen:
            conflicts[name] = new
    if c.name != lead["name"] and c.name not in lead.get("alternates", {}).get("name", []):
        conflicts["name"] = c.name
    extra = {k: v for k, v in c.custom.items() if k not in (lead.get("custom") or {})}
    if extra:
        changes["custom"] = {**(lead.get("custom") or {}), **extra}
    problems = dict(lead.get("problems") or {})
    for fixed in ("email", "phone"):
        if fixed in changes and fixed in problems:
            del problems[fixed]
    if problems != (lead.get("problems") or {}):
        changes["problems"] = problems
    if conflicts:
        alternates = {k: list(v) for k, v in (lead.get("alternates") or {}).items()}
        for k, v in conflicts.items():
            alternates.setdefault(k, []).append(v)
        changes["alternates"] = alternates
    lead.update(changes)
    return changes, conflicts


def _has_valid(lead: Known, name: str) -> bool:
    if name == "email":
        return bool(lead.get("email_key"))
    if name == "phone":
        return bool(lead.get("phone_e164"))
    return True


def _same(lead: Known, c: Candidate, name: str) -> bool:
    if name == "email":
        return lead.get("email_key") == c.email_key
    if name == "phone":
        return lead.get("phone_e164") == c.phone_e164
    return str(lead.get(name) or "").casefold() == str(getattr(c, name)).casefold()


class KeyFilter:
    """The contact keys (email keys, E.164 phones) that may be on a lead or be a lead's alias:
    a Bloom filter.

    An import into a new or small workspace looks up every row's contacts, and nearly all of
    them are on no lead yet. The filter answers "certainly not" for those without a query: it
    never forgets a key it was given, so only "maybe" keys (the known ones, and about one in a
    hundred others) reach the database. The owner must give it every key that can be on a lead
    of the workspace or be an alias of one: those there when it starts, and every key the
    import writes.
    """

    BITS = 1 << 25  # 4 MB: about 1 % false "maybe" at two million keys

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS >> 3)

    def add(self, keys: Iterable[str | None]) -> None:
        bits, mask = self._bits, self.BITS - 1
        for key in keys:
            if key:
                h = hash(key)
                a, b = h & mask, (h >> 32) & mask
                bits[a >> 3] |= 1 << (a & 7)
                bits[b >> 3] |= 1 << (b & 7)

    def take(self, keys: Iterable[str]) -> list[str]:
        """The keys of ``keys`` (distinct) that may be on a lead; all of them are in the filter
        afterwards. One pass: a batch checks and records its keys together."""
        bits, mask = self._bits, self.BITS - 1
        out = []
        for key in keys:
            h = hash(key)
            a, b = h & mask, (h >> 32) & mask
            byte_a, bit_a, byte_b, bit_b = a >> 3, 1 << (a & 7), b >> 3, 1 << (b & 7)
            if bits[byte_a] & bit_a and bits[byte_b] & bit_b:
                out.append(key)
            else:
                bits[byte_a] |= bit_a
                bits[byte_b] |= bit_b
        return out

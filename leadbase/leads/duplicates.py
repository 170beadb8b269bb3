"""Find *possible* duplicates: similar names at the same company or the same email domain.

They are only suggested — shown on both leads for a person to merge or dismiss, never merged
automatically. Blocking on the indexed family-name key keeps the scan index-backed at a million
leads; within a block, pairs need the same company or the same (non-free-mail) email domain and
names that agree (rapidfuzz). Dismissed pairs are never suggested again (unique pair row).
"""

from __future__ import annotations

from collections import defaultdict

from leadbase.leads.models import Lead, PossibleDuplicate
from leadbase.lib.cleaning import names_agree
from leadbase.lib.freemail import is_free_mail

CHUNK = 500


def scan_range(workspace_id: int, first_id: int, last_id: int) -> int:
    """Suggest pairs for the leads with ids in [first_id, last_id]; return how many were new."""
    new_pairs = 0
    base = Lead.objects.filter(workspace_id=workspace_id)
    columns = ("id", "name", "family_key", "company", "email_key")
    cursor = first_id - 1
    while True:
        fresh = list(base.filter(id__gt=cursor, id__lte=last_id).order_by("id").values(*columns)[:CHUNK])
        if not fresh:
            return new_pairs
        cursor = fresh[-1]["id"]
        families = sorted({row["family_key"] for row in fresh if row["family_key"]})
        if not families:
            continue
        blocks: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for row in base.filter(family_key__in=families).values(*columns).iterator(chunk_size=2000):
            for key in _block_keys(row):
                blocks[key].append(row)
        pairs: dict[tuple[int, int], str] = {}
        for row in fresh:
            for key in _block_keys(row):
                for other in blocks.get(key, ()):
                    if other["id"] == row["id"]:
                        continue
                    pair = (min(row["id"], other["id"]), max(row["id"], other["id"]))
                    if pair not in pairs and names_agree(row["name"], other["name"]):
                        pairs[pair] = "similar_name_company" if key[1].startswith("c:") else "similar_name_domain"
        if pairs:
            before = PossibleDuplicate.objects.filter(workspace_id=workspace_id).count()
            PossibleDuplicate.objects.bulk_create(
                [PossibleDuplicate(workspace_id=workspace_id, lead_a_id=a, lead_b_id=b, reason=r, score=0)
                 for (a, b), r in pairs.items()],
                ignore_conflicts=True,
            )
            new_pairs += PossibleDuplicate.objects.filter(workspace_id=workspace_id).count() - before


def _block_keys(row: dict) -> list[tuple[str, str]]:
    keys = []
    if row["company"]:
        keys.append((row["family_key"], "c:" + row["company"].casefold().strip()))
    if row["email_key"]:
        domain = row["email_key"].rpartition("@")[2]
        if not is_free_mail(domain):
            keys.append((row["family_key"], "d:" + domain))
    return keys

"""Makes exported cells safe to open in a spreadsheet (OWASP "CSV injection").

Invariants:
- Pure, no Django.
- `neutralize` returns a cell that does not start with = + - @ tab or carriage return, unless
  the cell is a phone number in E.164 form ("+4930123456"), kept as is so exported phones stay
  usable; a formula cannot look like that (a plus sign and digits only).
- `neutralize` is idempotent, and leaves every other cell unchanged.
- Only the start of a cell matters; quoting delimiters and newlines is the csv writer's job.
"""

from __future__ import annotations

import re

# Characters a spreadsheet may read as the start of a formula (or DDE payload).
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")
# [0-9], not \d: \d also matches non-ASCII digits, which are not E.164.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def neutralize(cell: str) -> str:
    """`cell` with a leading apostrophe when it starts like a formula, except E.164 phones.

    A number like "-5" is neutralized too: one simple, documented rule is safer than guessing
    which numbers a spreadsheet will evaluate.
    """
    if cell.startswith(DANGEROUS_STARTS) and not _E164.fullmatch(cell):
        return "'" + cell
    return cell

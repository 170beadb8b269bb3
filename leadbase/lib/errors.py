"""The one error the contact-cleaning helpers raise, how they quote bad values, what they trim.

Invariants:
- Every rejection of a value is an `Invalid` (a `ValueError`) with a stable reason `code` from
  `Code` and a one-sentence `message` a marketer understands; `str(error) == error.message`.
- `Invalid` survives pickling (imports may validate rows in worker processes).
- `shown()` never lets a control character or a huge value into a message.
- `BLANK` is every character `str.isspace()` knows plus the invisible zero-width ones that
  copy-paste leaves around values (ZWSP, word joiner, BOM); helpers strip it from both ends.
"""

from __future__ import annotations

from typing import Literal

Code = Literal["invalid_email", "invalid_phone", "invalid_name"]

_SHOWN_LIMIT = 60

# str.isspace() has no characters above U+3000, so scanning that far finds them all.
BLANK = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\u200b\u2060\ufeff"


class Invalid(ValueError):
    """A value given for a contact field that cannot be used, with the reason."""

    code: Code
    message: str

    def __init__(self, code: Code, message: str) -> None:
        # Both go to args so the default exception pickling rebuilds the same error.
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


def shown(value: str) -> str:
    """`value` in curly quotes for a message: invisible characters escaped, long values cut."""
    if not value.isprintable():
        # repr-style escapes (\n, \x00, \u202e) show what is really there without breaking
        # the report line it ends up in.
        value = "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)
    if len(value) > _SHOWN_LIMIT:
        value = value[: _SHOWN_LIMIT - 1] + "…"
    return f"“{value}”"

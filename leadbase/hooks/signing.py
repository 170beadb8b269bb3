"""Signing webhook requests, and the check a receiver makes: HMAC-SHA256 over "<timestamp>.<body>".

Pure functions without Django. ``verify`` is the recipe docs/webhooks.md gives receivers, and the
tests check real deliveries with it exactly as a receiver would. The timestamp is signed with the
body, so an attacker who captured a request cannot re-send it later with a fresh timestamp; a
receiver that rejects old timestamps therefore rejects replays.
"""

from __future__ import annotations

import hashlib
import hmac
import time

#: Prefix of the signature header's value; a new scheme would get a new version.
VERSION = "v1"
#: How old (or how far in the future, for clock skew) a timestamp may be before it is refused.
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``Leadbase-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def verify(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """True when ``signature`` is the endpoint's signature of ``body`` at ``timestamp`` and the
    timestamp is within ``tolerance`` seconds of ``now``: an old timestamp is a replay.

    Anything else is False, never an exception, whatever the headers hold (missing, not text,
    not ASCII). The timestamp must be ASCII digits only: ``int()`` would also take " 17…",
    "17_95…" or other scripts' digits, and the signature is checked over the timestamp exactly
    as sent, so a timestamp Leadbase did not write cannot verify.
    """
    if not isinstance(timestamp, str) or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if not isinstance(signature, str) or not signature.isascii():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    # compare_digest: constant time, so the signature cannot be guessed byte by byte from timings.
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode())

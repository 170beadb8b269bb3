"""An outage as a process's log tells it: said when it starts, reminded every so often while it
lasts, and said again when it ends; once, whichever of the process's threads meet it.

Used for the task queue (Redis) going away, seen by the web processes when a write hands its
tasks over and by the worker lanes when they empty the outbox: said at every try, one outage
was 39 of its 55 log lines, and 8 request threads meeting it together said it 8 times.
"""

from __future__ import annotations

import threading
import time


class Outage:
    """``failed()`` at each failure, ``answered()`` at each success."""

    def __init__(self, every: float) -> None:
        self.every = every  # seconds between two reminders while it lasts
        self._lock = threading.Lock()
        self._since: float | None = None
        self._said = 0.0

    @property
    def lasting(self) -> bool:
        return self._since is not None

    def failed(self) -> str | None:
        """None when this failure is not to be said (said already, not yet time for a reminder);
        else what to add to the message: "" at the start, " (for N s)" in a reminder."""
        with self._lock:
            now = time.monotonic()
            if self._since is not None and now - self._said < self.every:
                return None
            lasting = "" if self._since is None else f" (for {now - self._since:.0f} s)"
            self._since, self._said = self._since or now, now
            return lasting

    def answered(self) -> float | None:
        """How many seconds the outage lasted, when this success ends one (to be said); else None."""
        with self._lock:
            since, self._since = self._since, None
        return None if since is None else time.monotonic() - since

"""Lead events, sent inside the transaction that causes them.

Other apps (outbound webhooks, later scoring) listen here, so the leads app never imports them.
A receiver's writes commit or roll back with the lead change (a webhook delivery row cannot be
lost between the lead's commit and its own); it must queue side effects with
``leadbase.tasks.enqueue_with_write`` and must not let an exception escape (wrap its work in a
savepoint). Batch-shaped on purpose: an import sends one event per batch, not one per lead.

The three lead events are sent with ``announce``. An action made of several steps (create a
lead, then record its consents, assign its owner) runs them in ``announced_at_end``, so that
receivers, which read the leads when they get the event, see them as the whole action leaves
them: a webhook of a lead made through a form showed it without the consents and the owner the
same post gave it a moment later.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.dispatch import Signal

#: kwargs: workspace_id: int, lead_ids: list[int], source: str
leads_created = Signal()
#: kwargs: workspace_id: int, lead_ids: list[int] — leads whose fields changed (edit or merge)
leads_updated = Signal()
#: kwargs: workspace_id: int, lead_id: int, old: str, new: str
lead_stage_changed = Signal()
#: kwargs: workspace_id: int, kept_id: int, merged_id: int — sent by ``do_merge_leads`` before
#: the merged-away lead's row is deleted, so other apps can move what points at it to the lead kept.
lead_merging = Signal()
#: kwargs: workspace_id: int, lead_ids: list[int] — the lead ``do_erase_lead`` erases first, then
#: the leads merged into it over time. Sent before the lead row is deleted. Each receiver removes
#: the personal data its app keeps about them. Unlike the events above, a receiver that cannot
#: must raise: the erasure then fails whole, rather than report a person erased whose data is
#: still there.
lead_erasing = Signal()


_held = threading.local()


def announce(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """``signal.send(sender, **kwargs)``, now, or when the ``announced_at_end`` block around it
    ends."""
    queue = getattr(_held, "queue", None)
    if queue is None:
        signal.send(sender, **kwargs)
    else:
        queue.append((signal, sender, kwargs))


@contextmanager
def announced_at_end() -> Iterator[None]:
    """Hold the events ``announce`` sends inside the block and send them, in order, when it ends
    without an exception (inside the caller's transaction: use it within ``atomic``). A block
    inside another leaves them to the outer one; one that raises sends none."""
    if getattr(_held, "queue", None) is not None:
        yield
        return
    _held.queue = []
    try:
        yield
        held = _held.queue
    finally:
        _held.queue = None
    for signal, sender, kwargs in held:
        signal.send(sender, **kwargs)

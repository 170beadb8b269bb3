"""Lead events, sent inside the transaction that causes them.

Other apps (outbound webhooks, later scoring) listen here, so the leads app never imports them.
A receiver's writes commit or roll back with the lead change (a webhook delivery row cannot be
lost between the lead's commit and its own); it must queue side effects with
``leadbase.tasks.enqueue_with_write`` and must not let an exception escape (wrap its work in a
savepoint). Batch-shaped on purpose: an import sends one event per batch, not one per lead.
"""

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

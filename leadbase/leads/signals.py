"""Lead events, sent after the transaction that caused them commits.

Other apps (outbound webhooks, later scoring) listen here, so the leads app never imports them.
Batch-shaped on purpose: an import sends one event per batch, not one per lead.
"""

from django.dispatch import Signal

#: kwargs: workspace_id: int, lead_ids: list[int], source: str
leads_created = Signal()
#: kwargs: workspace_id: int, lead_ids: list[int] — leads whose fields changed (edit or merge)
leads_updated = Signal()
#: kwargs: workspace_id: int, lead_id: int, old: str, new: str
lead_stage_changed = Signal()

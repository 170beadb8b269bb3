"""Capture events, sent inside the transaction that writes the journal row (as the lead events:
see leadbase.leads.signals). Webhooks listen here (``submission.spam``)."""

from django.dispatch import Signal

#: kwargs: workspace_id: int, submission_id: int, form_slug: str, reason: str
submission_spam = Signal()

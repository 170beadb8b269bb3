"""Capture events, sent after commit. Webhooks listen here (``submission.spam``)."""

from django.dispatch import Signal

#: kwargs: workspace_id: int, submission_id: int, form_slug: str, reason: str
submission_spam = Signal()

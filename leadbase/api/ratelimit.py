"""Per-token rate limit: ``settings.API_RATE_PER_TOKEN`` requests per token per clock minute.

A fixed window counted in the database (``RateWindow``), so the limit holds across every web
process and machine. Each step is one conditional UPDATE, which the database applies
atomically: two requests racing for the last slot of a window cannot both get it, and a stale
window is reset by exactly one of them.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from leadbase.accounts.models import ApiToken
from leadbase.api.models import RateWindow

WINDOW_SECONDS = 60


def take_request(token: ApiToken, now: datetime | None = None) -> int | None:
    """Count one request for ``token``; None when allowed, else the seconds until the next window.

    A limit of 0 or less turns the limit off.
    """
    limit = settings.API_RATE_PER_TOKEN
    if limit <= 0:
        return None
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    rows = RateWindow.objects.filter(token_id=token.pk)
    current = rows.filter(window_start=window, count__lt=limit)
    # The common case first: a slot left in the current window.
    if current.update(count=F("count") + 1):
        return None
    # A window from an earlier minute starts over at this request.
    if rows.filter(window_start__lt=window).update(window_start=window, count=1):
        return None
    if not rows.exists():
        try:
            with transaction.atomic():
                RateWindow.objects.create(token_id=token.pk, window_start=window, count=1)
            return None
        except IntegrityError:
            pass
    # The row may have been created by a concurrent first request of this token after the
    # UPDATEs above found nothing: try its window once more before refusing.
    if current.update(count=F("count") + 1):
        return None
    return WINDOW_SECONDS - now.second

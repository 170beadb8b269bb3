"""``Idempotency-Key`` on POST: a retried request gets the first answer instead of a second write.

Same token + same key + same request (method, path and body, compared as the SHA-256 of the
canonical JSON) → the stored status and body, nothing written. Same key with another request →
422 ``idempotency_key_reused``. Keys live for 24 hours.

The key row is inserted in the same transaction as the write, and ``(token, key)`` is unique: of
two concurrent requests with one key, the second either waits for the first (SQLite takes the
write lock at BEGIN) and then finds its row, or fails on the unique constraint (PostgreSQL), which
rolls its write back; it then answers with the stored response. Only successful writes are
stored: a request refused with a 4xx wrote nothing and may be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Header

from leadbase.api.errors import ApiError, json_response
from leadbase.api.models import IdempotencyKey

KEY_LIFETIME = timedelta(hours=24)
REPLAY_HEADER = "Idempotent-Replayed"

#: A write returns the status and the JSON body of its response.
Write = Callable[[], tuple[int, dict[str, Any]]]


def idempotency_header() -> Any:
    """The ``Idempotency-Key`` header parameter of a POST operation (documented in OpenAPI)."""
    return Header(
        None,
        alias="Idempotency-Key",
        description="A unique string of 1 to 200 printable ASCII characters (a UUID): a retry with "
        "the same key and body gets the first response.",
    )


def request_fingerprint(request: HttpRequest) -> str:
    """SHA-256 of the method, the path and the canonical JSON of the (already valid) body."""
    body = json.loads(request.body) if request.body else None
    canonical = json.dumps(
        [request.method, request.path, body], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(request: HttpRequest, key: str | None, write: Write) -> HttpResponse:
    """Run ``write`` in a transaction, once per ``key`` of the request's token."""
    if key is None:
        with transaction.atomic():
            status, body = write()
        return json_response(status, body)
    if not (key and len(key) <= 200 and key.isascii() and key.isprintable()):  # "", "kéy", too long
        raise ApiError(
            422, "invalid_idempotency_key",
            "An Idempotency-Key is 1 to 200 printable ASCII characters, such as a UUID.",
            field="Idempotency-Key",
        )

    fingerprint = request_fingerprint(request)
    try:
        with transaction.atomic():
            stored = _find(request, key)
            if stored is not None and stored.created_at < timezone.now() - KEY_LIFETIME:
                stored.delete()
                stored = None
            if stored is None:
                status, body = write()
                # Keys outlive their 24 hours only until the token stores its next one: no
                # periodic job needed, and the token's rows are few (one per POST a day).
                IdempotencyKey.objects.filter(
                    token=request.token, created_at__lt=timezone.now() - KEY_LIFETIME
                ).delete()
                IdempotencyKey.objects.create(
                    token=request.token,
                    key=key,
                    request_hash=fingerprint,
                    status_code=status,
                    response=body,
                )
                return json_response(status, body)
    except IntegrityError:
        stored = _find(request, key)
        if stored is None:
            raise  # not a key collision: a genuine error of the write
    return _replay(stored, fingerprint)


def _find(request: HttpRequest, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(token=request.token, key=key).first()


def _replay(stored: IdempotencyKey, fingerprint: str) -> HttpResponse:
    if stored.request_hash != fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request; "
            "use a new key for a new request.",
            field="Idempotency-Key",
        )
    response = json_response(stored.status_code, stored.response)
    response[REPLAY_HEADER] = "true"
    return response

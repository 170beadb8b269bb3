"""GET /healthz: process up and database reachable."""

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        return JsonResponse({"ok": True, "database": True})
    except DatabaseError as exc:
        return JsonResponse({"ok": False, "database": False, "error": str(exc)}, status=503)

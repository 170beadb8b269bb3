"""API test helpers: a JSON client per persona, authenticated with a real token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from leadbase.accounts.actions import do_create_api_token
from leadbase.accounts.models import TokenScope


class ApiClient:
    """Calls /api/v1 with ``Authorization: Bearer <secret>`` and JSON bodies."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.client = Client()

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        base = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        return base | (headers or {})

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get("/api/v1" + path, params or {}, headers=self._headers(headers))

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        **headers: str,
    ) -> Any:
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            "/api/v1" + path, data, content_type=content_type, headers=self._headers(headers)
        )

    def patch(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.patch(
            "/api/v1" + path,
            json.dumps(body),
            content_type="application/json",
            headers=self._headers(headers),
        )


@pytest.fixture
def api_as(personas):
    """``api_as("owner")`` is a client with a write token of that persona; ``scope="read"`` for a
    read token; ``"anonymous"`` sends no token."""

    def make(name: str, scope: str = TokenScope.WRITE) -> ApiClient:
        if name == "anonymous":
            return ApiClient(None)
        user = getattr(personas, name)
        workspace = personas.other_workspace if name == "outsider" else personas.workspace
        _, secret = do_create_api_token(user, workspace, scope=scope, name=f"{name} test")
        return ApiClient(secret)

    return make


@pytest.fixture
def owner_api(api_as) -> ApiClient:
    return api_as("owner")

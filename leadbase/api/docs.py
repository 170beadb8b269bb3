"""The interactive docs at /api/v1/docs, served without any CDN.

Ninja's Swagger page loads Swagger UI from a CDN unless ``ninja`` is an installed app; an
install may have no internet access (and its users neither), so this page uses the Swagger UI
files that the django-ninja package ships, served by ``asset`` below from the package folder.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ninja
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from ninja.openapi.docs import DocsBase

from leadbase.api.errors import error_response

if TYPE_CHECKING:
    from ninja import NinjaAPI

ASSET_DIR = Path(ninja.__file__).parent / "static" / "ninja"
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js", "favicon.svg"})

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{assets}swagger-ui.css">
<link rel="icon" href="{assets}favicon.svg" type="image/svg+xml">
</head>
<body>
<script type="application/json" id="swagger-settings">{settings}</script>
<div id="swagger-ui"></div>
<script src="{assets}swagger-ui-bundle.js"></script>
<script src="{assets}swagger-ui-init.js"></script>
</body>
</html>
"""


class LocalSwagger(DocsBase):
    """Swagger UI over the OpenAPI document, with every file served by Leadbase itself."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
        }
        assets = reverse(f"{api.urls_namespace}:docs-asset", kwargs={"name": "x"}).removesuffix("x")
        # "</" cannot end the JSON script element early once its slash is escaped.
        settings_json = json.dumps(settings).replace("</", "<\\/")
        return HttpResponse(
            PAGE.format(title=escape(api.title), assets=assets, settings=settings_json)
        )


@require_GET
@cache_control(public=True, max_age=86400)
def asset(request: HttpRequest, name: str) -> HttpResponse:
    """A Swagger UI file of the installed django-ninja (whose version pins its content)."""
    if name not in ASSETS:
        return error_response(404, "not_found", "No such file.")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse((ASSET_DIR / name).open("rb"), content_type=content_type)

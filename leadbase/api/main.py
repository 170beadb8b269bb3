"""The REST API: one NinjaAPI with a router per area, token auth and JSON errors everywhere."""

from __future__ import annotations

from django.views.decorators.http import require_GET
from ninja import NinjaAPI
from ninja.operation import Operation

from leadbase.api import channels, forms, leads
from leadbase.api.auth import TokenAuth
from leadbase.api.docs import LocalSwagger
from leadbase.api.errors import JsonParser, install_handlers


class LeadbaseAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # "create_lead", not "leadbase_api_leads_create_lead": names clients generate code from.
        return operation.view_func.__name__


api = LeadbaseAPI(
    title="Leadbase API",
    version="1",
    description=(
        "Leads, forms, submissions and channels of one workspace. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `leadbase token create`). "
        "Guide: docs/api.md."
    ),
    urls_namespace="api",
    docs=LocalSwagger(),
    docs_url="/docs",
    # The document and the docs page are read-only: any other method gets the API's JSON 405.
    docs_decorator=require_GET,
    openapi_url="/openapi.json",
    auth=TokenAuth(),
    parser=JsonParser(),
)
install_handlers(api)
api.add_router("", leads.router)
api.add_router("", forms.router)
api.add_router("", channels.router)

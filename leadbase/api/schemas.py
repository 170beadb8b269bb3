"""Request and response schemas of the REST API (they are the OpenAPI document's components).

Request bodies forbid unknown fields (a typo is a 422 naming the field, not silently dropped).
Every text refuses NUL and other control characters and unpaired surrogates: neither is
something a person typed, and PostgreSQL cannot store them. Every text, custom values and keys
included, also refuses a script tag (``markup_not_allowed``), as the public forms do.
"""

import json
import math
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from ninja import Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from leadbase.capture.channels import MAX_FOLLOWERS
from leadbase.capture.models import Platform, SubmissionStatus
from leadbase.leads.models import ConsentStatus, Purpose, Stage
from leadbase.lib.countries import country_code
from leadbase.lib.markup import has_script_tag

_ALLOWED_CONTROLS = frozenset("\t\n\r")


def plain_text(value: str) -> str:
    """``value``, unless it holds a control character or an unpaired surrogate (ValueError)."""
    if any((ch < " " and ch not in _ALLOWED_CONTROLS) or ch == "\x7f" for ch in value):
        raise ValueError("Control characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("The text is not valid Unicode (unpaired surrogate).") from None
    return value


def no_markup(value: str) -> str:
    """``value``, unless it holds a script tag (``markup_not_allowed``, naming the field)."""
    if has_script_tag(value):
        raise PydanticCustomError("markup_not_allowed", "Script tags are not allowed here.")
    return value


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str,
        StringConstraints(max_length=max_length, min_length=min_length),
        AfterValidator(plain_text),
        AfterValidator(no_markup),
    ]


MAX_CUSTOM_LIST = 100  # texts in a custom field's list (a form's tags: at most 20)


def _custom_value(value: Any) -> Any:
    # One check with one message, rather than a union whose every branch reports its own error.
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and len(value) <= 2000:
        return no_markup(plain_text(value))
    # A list of texts, as a form's tags are kept (``custom.tags``): what a lead read from the
    # API has must go back in a PATCH.
    if (isinstance(value, list) and len(value) <= MAX_CUSTOM_LIST
            and all(isinstance(item, str) and len(item) <= 200 for item in value)):
        return [no_markup(plain_text(item)) for item in value]
    raise ValueError(
        "A custom field holds text (up to 2,000 characters), a number, true, false, null, or a "
        f"list of up to {MAX_CUSTOM_LIST} texts (up to 200 characters each)."
    )


def _country(value: str | None) -> str | None:
    """A country the lead store knows (an ISO code or an English name), or empty to clear it.
    An unknown one was kept as ``custom.country`` with the country cleared, silently."""
    if value and country_code(value) is None:
        raise PydanticCustomError(
            "invalid_country",
            "“{value}” is not a country Leadbase knows: give its ISO code (DE) or English name (Germany).",
            {"value": value[:100]},
        )
    return value


def _consent_shorthand(value: Any) -> Any:
    return {"status": value} if isinstance(value, str) else value


class _ConsentShorthandSchema:
    """In the OpenAPI document, a consent is its status alone or the object with the proof, as
    ``_consent_shorthand`` takes it: generated clients must not refuse ``"granted"``."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        status = {"type": "string", "enum": list(ConsentStatus.values)}
        return {"anyOf": [status, handler(core_schema)]}


Line = _text(200)
StageName = Literal[tuple(Stage.values)]
SubmissionStatusName = Literal[tuple(SubmissionStatus.values)]
CustomKey = _text(100, min_length=1)
CustomValue = Annotated[
    Any,
    PlainValidator(_custom_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": 2000},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"},
                {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": MAX_CUSTOM_LIST},
            ]
        }
    ),
]
Custom = Annotated[dict[CustomKey, CustomValue], Field(max_length=100)]
Country = Annotated[_text(100), AfterValidator(_country)]


class Input(Schema):
    """A request body: a field the schema does not name is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------


class FieldError(Schema):
    field: str | None = Field(description="The input field at fault (dotted for nested fields).")
    code: str
    message: str


class ErrorOut(Schema):
    code: str = Field(
        description="Stable, for programs: validation_error, invalid_email, not_found, …"
    )
    message: str = Field(description="For people.")
    detail: list[FieldError] = Field(
        description="One entry per field at fault; empty when no field is."
    )


#: The error statuses every operation documents (each answered with ErrorOut).
ERROR_RESPONSES = {status: ErrorOut for status in (400, 401, 403, 404, 409, 413, 415, 422, 429)}


# --- leads --------------------------------------------------------------------------------------


class ConsentIn(Input):
    status: Literal[tuple(ConsentStatus.values)]
    text: _text(5000) = Field("", description="The exact wording the person agreed to (the proof).")
    ip: IPvAnyAddress | None = Field(None, description="The person's IP address when they agreed.")


class LeadIn(Input):
    """A person to create, or to merge into the lead they already are (same cleaning as forms and
    imports). A name (or first and last name) and a valid email or phone are required."""

    name: Line | None = None
    first_name: _text(100) | None = None
    last_name: _text(100) | None = None
    email: _text(320) | None = None
    phone: _text(64) | None = Field(
        None, description="Any format; stored in E.164 using the country or region."
    )
    company: Line | None = None
    job_title: Line | None = None
    country: Country | None = Field(None, description="ISO code or English name.")
    utm_source: Line | None = None
    utm_medium: Line | None = None
    utm_campaign: Line | None = None
    utm_term: Line | None = None
    utm_content: Line | None = None
    referrer: _text(2000) | None = None
    custom: Custom = Field(
        default_factory=dict, description="Your own fields: text, numbers, booleans, lists of texts."
    )
    consents: dict[
        Literal[tuple(Purpose.values)],
        Annotated[ConsentIn, BeforeValidator(_consent_shorthand), _ConsentShorthandSchema],
    ] = Field(
        default_factory=dict,
        description='Per purpose, "granted" / "pending" / "withdrawn", or {"status", "text", "ip"} '
        "with the proof.",
    )


class LeadPatch(Input):
    """Fields to change; omitted fields stay as they are. In ``custom``, null removes a field."""

    name: Line = None
    email: _text(320) = None
    phone: _text(64) = None
    company: Line = None
    job_title: Line = None
    country: Country = Field(None, description="ISO code or English name; empty to clear it.")
    custom: Custom = None
    stage: StageName = None
    reason: Line = Field(
        None, description="Why the lead is disqualified; required with stage disqualified."
    )


class OwnerOut(Schema):
    id: int
    email: str
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.get_full_name()


class ConsentOut(Schema):
    purpose: str
    status: str
    at: datetime
    method: str


class ProblemOut(Schema):
    field: str
    value: str = Field(description="The value as entered, kept for correction.")
    message: str


class LeadOut(Schema):
    id: int
    name: str
    given_name: str
    family_name: str
    email: str | None = Field(description="The valid address, or null (a bad one is in problems).")
    phone: str | None = Field(description="E.164, or null (a bad number is in problems).")
    phone_ext: str
    company: str
    job_title: str
    country: str
    custom: dict[str, Any]
    problems: list[ProblemOut]
    source: str
    source_ref: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    referrer: str
    last_touch: dict[str, Any] = Field(
        description="The latest time the person came in: `source` and `at`, and for a form post `form` (its "
        "slug), the UTM tags it carried, `referrer`, `page` and `link` (a tracked link's code); for an API "
        "call `source_ref` (the token's name), its UTM tags and `referrer`. Empty (`{}`) for a lead only "
        "imported: an import is no visit."
    )
    stage: StageName
    disqualified_reason: str
    score: int
    owner: OwnerOut | None
    consents: list[ConsentOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_email(obj: Any) -> str | None:
        return obj.email if obj.email_key else None

    @staticmethod
    def resolve_phone(obj: Any) -> str | None:
        return obj.phone_e164

    @staticmethod
    def resolve_problems(obj: Any) -> list[dict[str, str]]:
        return [
            {"field": f, "value": getattr(obj, f, ""), "message": m}
            for f, m in sorted(obj.problems.items())
        ]

    @staticmethod
    def resolve_consents(obj: Any) -> list[Any]:
        return sorted(obj.consents.all(), key=lambda c: c.purpose)


class LeadCreatedOut(LeadOut):
    outcome: Literal["created", "merged"] = Field(
        description="merged: the person was already a lead."
    )
    warnings: list[FieldError] = Field(
        description="Values kept for correction but not usable (a bad phone…)."
    )


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


# --- forms and submissions ---------------------------------------------------------------------


class FormFieldOut(Schema):
    key: str
    label: str = ""
    type: str = "text"
    required: bool = False
    options: list[Any] = Field(default_factory=list)


class FormConsentOut(Schema):
    purpose: str
    text: str = ""
    required: bool = False


class FormOut(Schema):
    id: int
    slug: str
    name: str
    fields: list[FormFieldOut]
    consents: list[FormConsentOut]
    double_opt_in: bool
    is_published: bool
    archived_at: datetime | None = Field(
        None, description="When the form was archived (removed while it had submissions)."
    )
    allowed_origins: list[str]
    tags: list[str]
    submit_url: str
    embed_url: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_submit_url(obj: Any) -> str:
        return f"{settings.BASE_URL}/f/{obj.slug}"

    @staticmethod
    def resolve_embed_url(obj: Any) -> str:
        return f"{settings.BASE_URL}/f/{obj.slug}/embed.js"


class FormList(Schema):
    items: list[FormOut]


class SubmissionOut(Schema):
    id: int
    form_id: int
    received_at: datetime
    status: str
    spam_reason: str
    error: str
    outcome: str
    lead_id: int | None
    payload: dict[str, Any]
    utm: dict[str, Any]
    referrer: str
    page_url: str
    link_code: str
    ip: str | None
    user_agent: str
    attempts: int


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    next_cursor: str | None


# --- channels -------------------------------------------------------------------------------------


class ChannelIn(Input):
    platform: Literal[tuple(Platform.values)]
    handle: _text(200) = Field(description="The account's handle; a leading @ is dropped.")
    url: _text(2000) = Field("", description="The profile's http(s) address.")


class SnapshotIn(Input):
    date: date
    followers: int = Field(ge=0, le=MAX_FOLLOWERS)


class SnapshotOut(Schema):
    date: date
    followers: int


class ChannelOut(Schema):
    id: int
    platform: str
    handle: str
    url: str
    created_at: datetime
    followers: int | None = Field(None, description="The latest follower count recorded.")
    followers_on: date | None = Field(None, description="The day of that count.")


class ChannelDetail(ChannelOut):
    snapshots: list[SnapshotOut] = Field(description="Follower counts, oldest day first.")

    @staticmethod
    def resolve_snapshots(obj: Any) -> list[Any]:
        return obj.history


class ChannelList(Schema):
    items: list[ChannelOut]


def rendered(item: Schema) -> dict[str, Any]:
    """``item`` as the API's responses render it (``NinjaJSONEncoder``: times to the
    millisecond, ``…864Z``). A body kept for an idempotent replay or a webhook is made with
    this, not with pydantic's own JSON (``…864449Z``): a client comparing a created lead's
    ``updated_at`` with a later GET's saw a change that was not there."""
    return json.loads(json.dumps(item.model_dump(), cls=NinjaJSONEncoder))

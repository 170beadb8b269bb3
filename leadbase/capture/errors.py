"""Domain errors of capture actions (never HTTP responses; the views map ``code`` to a status).

Every error has a stable ``code``, a ``message`` a visitor or a marketer understands, and the
``field`` at fault when there is one, so the form, the embed script and JSON clients can point
at it.
"""

from __future__ import annotations


class CaptureError(Exception):
    """A refused capture request or form change."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        #: the other fields at fault in the same post, so a visitor corrects all at once
        self.more: list[CaptureError] = []

    def every(self) -> list[CaptureError]:
        """This error and the others found with it, first one first."""
        return [self, *self.more]


class FormUnavailable(CaptureError):
    """The form (or page) does not exist or is not published: the same answer for both, so an
    unpublished form's existence is not revealed."""

    def __init__(self, message: str = "This form does not exist or is not published.") -> None:
        super().__init__("form_not_found", message)


class BadPayload(CaptureError):
    """The body cannot be read at all: too large, wrong content type, invalid UTF-8 or JSON.

    Codes: ``body_too_large``, ``unsupported_media_type``, ``invalid_encoding``, ``invalid_json``.
    """


class RateLimited(CaptureError):
    """Too many submissions from one address or to one form in the current minute."""

    def __init__(self, scope: str, retry_after: int) -> None:
        who = "from your address" if scope == "ip" else "to this form"
        super().__init__(
            "rate_limited", f"Too many submissions {who}; try again in {retry_after} s."
        )
        self.scope = scope
        self.retry_after = retry_after


class FormConfigError(CaptureError):
    """A form or landing page definition that cannot be saved (builder side)."""

    key: object = None

    #: code -> (the builder's field at fault, message formatted with the details)
    MESSAGES = {
        "invalid_key": (
            "fields",
            "The key “{key}” must start with a letter and use a-z, 0-9, _ (40 at most).",
        ),
        "reserved_key": ("fields", "The key “{key}” is reserved; choose another key."),
        "duplicate_key": (
            "fields",
            "The key “{key}” is used twice (fields and hidden fields together).",
        ),
        "invalid_type": ("fields", "“{key}” is not a field type ({types})."),
        "no_options": ("fields", "The list “{key}” needs at least one option."),
        "no_name_field": (
            "fields",
            "A form needs a `name` field (or `first_name` and `last_name`).",
        ),
        "no_contact_field": (
            "fields",
            "A form needs an `email` or a `phone` field, or it makes no leads.",
        ),
        "invalid_purpose": ("consents", "“{key}” is not a consent purpose."),
        "duplicate_purpose": ("consents", "Two checkboxes ask for “{key}”."),
        "no_consent_text": (
            "consents",
            "Each consent checkbox needs the exact text the visitor agrees to.",
        ),
        "invalid_origin": (
            "allowed_origins",
            "“{key}” is not an origin like https://www.example.com.",
        ),
        "no_name": ("name", "Give the form a name."),
        "no_headline": ("headline", "Give the page a headline."),
        "invalid_slug": ("slug", "Give it a short web address (letters, digits, dashes)."),
        "slug_taken": ("slug", "The address “{key}” is already used; choose another."),
        "not_member": ("owner", "{key} is not a member of this workspace."),
        "archived": ("", "This form is archived; restore it before changing it."),
        "not_archived": ("", "This form is not archived."),
    }

    @classmethod
    def of(cls, code: str, **details: object) -> FormConfigError:
        field, message = cls.MESSAGES[code]
        error = cls(code, message.format(**details), field)
        error.key = details.get("key")  # the value at fault, for the builder to mark its row
        return error


class ConfirmLinkError(CaptureError):
    """A double opt-in link that is forged, expired, or points at a lead that no longer exists.

    Codes: ``invalid_link``, ``expired_link``, ``gone``, and ``too_soon`` for a new link asked
    for again within ``NEW_LINK_EVERY``. An expired link carries what it asked for (``wanted``, a
    ``ConfirmRequest``), for the page to offer a new one.
    """

    wanted: object = None
    retry_after: int = 0  # ``too_soon``: seconds until a new link may be asked for

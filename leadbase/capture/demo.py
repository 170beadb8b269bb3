"""The demo form `contact` and its landing page `/p/contact` (called by `leadbase demo`)."""

from __future__ import annotations

from leadbase.accounts.models import User, Workspace
from leadbase.capture.actions import do_create_form, do_save_landing_page
from leadbase.capture.errors import FormConfigError
from leadbase.capture.models import Form

CONTACT = {
    "name": "Contact",
    "slug": "contact",
    "fields": [
        {"key": "name", "label": "Your name", "type": "text", "required": True},
        {"key": "email", "label": "Email", "type": "email", "required": True},
        {"key": "phone", "label": "Phone", "type": "phone", "required": False},
    ],
    "consents": [
        {
            "purpose": "email_marketing",
            "required": False,
            "text": "Yes, email me product news, invitations and offers. "
            "I can unsubscribe at any time.",
        }
    ],
    "double_opt_in": True,
    "thank_you_message": "Thank you! We will get back to you within one working day.",
    "tags": ["demo"],
    "is_published": True,
}
PAGE = {
    "headline": "Talk to us",
    "body": (
        "Tell us how to reach you and a person from our team will get back to you **within one "
        "working day**.\n\n"
        "- a 20-minute call to understand what you need\n"
        "- a tailored demo, not a slide deck\n"
        "- no obligation\n"
    ),
    "is_published": True,
}


def load_demo_forms(workspace: Workspace, owner: User) -> Form:
    """Create the `contact` form with double opt-in and its landing page, once.

    Idempotent: when `contact` already exists in ``workspace`` it is returned unchanged (a
    marketer may have edited it). The slug is global, so it must not belong to another workspace.
    """
    form = Form.objects.filter(slug=CONTACT["slug"]).first()
    if form is not None:
        if form.workspace_id != workspace.pk:
            raise FormConfigError(
                "slug_taken",
                "The form address /f/contact is already used by another workspace.",
                "slug",
            )
        return form
    form = do_create_form(workspace, {**CONTACT, "owner": None}, actor=owner)
    do_save_landing_page(form, {**PAGE, "slug": "contact"}, actor=owner)
    return form

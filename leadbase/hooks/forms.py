"""The endpoint form: a URL and the events to send there (none checked means all of them)."""

from __future__ import annotations

from django import forms

from leadbase.hooks.models import EVENTS

EVENT_LABELS = {
    "lead.created": "A lead is created (form, API, import or by hand)",
    "lead.updated": "A lead's details change (edited, or merged with new details)",
    "lead.stage_changed": "A lead moves to another stage",
    "submission.spam": "A form submission is refused as spam",
}


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=1000,
        assume_scheme="https",
        # The same words as the action's check (``clean_url``), whichever of the two refuses it.
        error_messages={"invalid": "Enter a full http:// or https:// address."},
        help_text="Leadbase sends each event here as a signed JSON POST.",
        widget=forms.URLInput(
            attrs={"placeholder": "https://example.com/hooks/leadbase", "autocomplete": "off"}
        ),
    )
    events = forms.MultipleChoiceField(
        required=False,
        choices=[(event, f"{event} — {EVENT_LABELS[event]}") for event in EVENTS],
        widget=forms.CheckboxSelectMultiple,
        label="Events",
        help_text="Leave all unchecked to receive every event, including ones added later.",
    )

"""Forms of the channel pages: a channel, a follower count, a follower CSV and a tracked link.

They only parse input; the rules (unique handles, no future dates, one link target, code
syntax) live in ``leadbase.capture.channels`` and come back as ``ChannelError``s, which
``add_channel_error`` puts on the field at fault.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from leadbase.capture.channels import (
    UTM_FIELDS,
    ChannelError,
    LinkSpec,
    is_page_online,
    parse_count,
    parse_day,
)
from leadbase.capture.models import Channel, LandingPage, Platform

#: A follower CSV is a few hundred lines; anything larger is not one.
MAX_SNAPSHOT_UPLOAD = 1024 * 1024
#: Web addresses in a text input (styled like the others) with the URL keyboard on phones.
URL_ATTRS = {"inputmode": "url", "placeholder": "https://", "autocomplete": "url"}


def add_channel_error(form: forms.Form, error: ChannelError) -> None:
    """Show ``error`` on its field when the form has it, else above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class ChannelForm(forms.Form):
    platform = forms.ChoiceField(choices=Platform.choices)
    handle = forms.CharField(
        max_length=101, help_text="The account name, with or without the @."
    )  # 100 + "@"
    url = forms.CharField(
        required=False, max_length=200, label="Profile address", widget=forms.TextInput(URL_ATTRS)
    )


class SnapshotForm(forms.Form):
    """A follower count typed in, read by the follower CSV's rules (``parse_day``,
    ``parse_count``) with its messages, so a day or a count is taken by both or by neither:
    03/04/2025 is refused as ambiguous, 12,000 is twelve thousand."""

    date = forms.CharField(widget=forms.DateInput(attrs={"type": "date"}))
    followers = forms.CharField(
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()
        self.fields["date"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_date(self) -> date:
        try:
            return parse_day(self.cleaned_data["date"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_date") from None

    def clean_followers(self) -> int:
        try:
            return parse_count(self.cleaned_data["followers"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_followers") from None


class SnapshotImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Two columns with a header row: <code>date</code> (YYYY-MM-DD) and "
        "<code>followers</code>.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_SNAPSHOT_UPLOAD:
            raise forms.ValidationError(
                "The file is larger than 1 MB; a follower history is much smaller."
            )
        return upload


class PageChoiceField(forms.ModelChoiceField):
    """Landing pages by headline. The page of a link being edited is offered even when it is
    offline, and says so: ``/r/<code>`` answers 404 until it is published again."""

    def label_from_instance(self, obj: LandingPage) -> str:
        return str(obj) if is_page_online(obj) else f"{obj} (not published)"


class LinkForm(forms.Form):
    """A tracked link: target (landing page or web address), optional custom code, UTM tags."""

    channel = forms.ModelChoiceField(
        queryset=Channel.objects.none(), required=False, empty_label="— no channel —"
    )
    label = forms.CharField(
        required=False, max_length=200, help_text="Which post or bio this link is for."
    )
    page = PageChoiceField(
        queryset=LandingPage.objects.none(),
        required=False,
        label="Landing page",
        empty_label="— a web address —",
    )
    target_url = forms.CharField(
        required=False,
        max_length=200,
        label="Web address",
        help_text="Used when no landing page is chosen.",
        widget=forms.TextInput(URL_ATTRS),
    )
    code = forms.CharField(
        required=False,
        max_length=32,
        label="Custom code",
        help_text="Optional, e.g. <code>spring-sale</code>. Left empty, a random 8-character code "
        "is made.",
    )
    utm_source = forms.CharField(
        required=False,
        max_length=200,
        label="utm_source",
        help_text="Empty: the channel's platform.",
    )
    utm_medium = forms.CharField(
        required=False, max_length=200, label="utm_medium", help_text="Empty: social."
    )
    utm_campaign = forms.CharField(required=False, max_length=200, label="utm_campaign")
    utm_term = forms.CharField(required=False, max_length=200, label="utm_term")
    utm_content = forms.CharField(required=False, max_length=200, label="utm_content")

    def __init__(
        self,
        *args,
        channels: QuerySet[Channel],
        pages: QuerySet[LandingPage],
        editing: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = channels
        self.fields["page"].queryset = pages
        if editing:
            del self.fields["code"]  # printed in posts already: a code never changes

    @property
    def spec(self) -> LinkSpec:
        data = self.cleaned_data
        return LinkSpec(
            channel=data["channel"],
            page=data["page"],
            target_url=data["target_url"],
            label=data["label"],
            **{name: data[name] for name in UTM_FIELDS},
        )

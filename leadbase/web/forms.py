"""Forms of the web pages: the leads list filters, the import upload and the column mapping."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import phonenumbers
import pycountry
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from leadbase.leads.models import ImportJob, Source, Stage
from leadbase.leads.queries import SORTS, UNASSIGNED

SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "name": "Name A–Z",
    "score": "Highest score",
}


class LoginForm(AuthenticationForm):
    """Log in with an email address in any case (addresses are stored lowercased)."""

    def clean_username(self) -> str:
        return (self.cleaned_data.get("username") or "").strip().lower()


class LeadFilterForm(forms.Form):
    """The leads list's search box, filters, sort and page cursor (GET). Bad values are ignored."""

    q = forms.CharField(required=False, max_length=200, strip=True, label="Search")
    stage = forms.ChoiceField(required=False, choices=[("", "Any stage"), *Stage.choices])
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *Source.choices])
    owner = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(required=False, choices=[(s, SORT_LABELS[s]) for s in SORTS])
    after = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, data, *, owners, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["owner"].choices = [("", "Any owner"), (UNASSIGNED, "Unassigned")] + [
            (str(user.pk), user.label) for user in owners
        ]

    def value(self, name: str) -> str:
        """The cleaned value of ``name``, or "" when it was missing or invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or ""

    @property
    def filtered(self) -> bool:
        return bool(
            self.value("q") or self.value("stage") or self.value("source") or self.value("owner")
        )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"Exported from a spreadsheet, a trade-show scanner or another CRM; up to "
        f"{settings.IMPORT_MAX_UPLOAD_MB} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv,text/plain"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is larger than {settings.IMPORT_MAX_UPLOAD_MB} MB. "
                "Split it, or import it with the command leadbase import on the server."
            )
        return upload


#: Regions with their own phone numbering that ISO 3166-1 does not list as countries.
_NOT_IN_ISO = {"AC": "Ascension Island", "TA": "Tristan da Cunha", "XK": "Kosovo"}


@cache
def region_choices() -> list[tuple[str, str]]:
    """Regions phone numbers can be read in, by their country's name: ``Germany (DE, +49)``.
    Codes alone ("DE (+49)") made a marketer look up which one was theirs."""
    def label(region: str) -> str:
        country = pycountry.countries.get(alpha_2=region)
        name = getattr(country, "common_name", None) or getattr(country, "name", None) or _NOT_IN_ISO[region]
        return f"{name} ({region}, +{phonenumbers.country_code_for_region(region)})"

    return sorted(((r, label(r)) for r in phonenumbers.SUPPORTED_REGIONS), key=lambda choice: choice[1])


def custom_target(header: str, index: int) -> str:
    """The ``custom:<slug>`` a column lands in when kept as a custom field."""
    ascii_text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40]
    return f"custom:{slug}" if slug else f"custom:column_{index + 1}"


class MappingForm(forms.Form):
    """One select per CSV column (prefilled with the guess) and the region for phone numbers."""

    region = forms.ChoiceField(
        label="Phone numbers without + are from",
        help_text="Used when a row has no country of its own.",
    )

    def __init__(self, data, *, job: ImportJob, choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["region"].choices = region_choices()
        self.fields["region"].initial = job.region or settings.DEFAULT_REGION
        self.columns = []
        guesses = [job.mapping[i] if i < len(job.mapping) else "" for i in range(len(job.header))]
        # A column guessed as a custom field keeps that name (it is the select's initial value);
        # the others' custom choice is made not to take it. Made unique as a second step, a
        # second "Phone" column (guessed custom:phone) lost its own choice to the first's and
        # the page showed it ignored: the import dropped it.
        used = {guess for guess in guesses if guess.startswith("custom:")}
        for index, header in enumerate(job.header):
            guess = guesses[index]
            custom = guess
            if not guess.startswith("custom:"):
                custom = custom_target(header, index)
                if custom in used:
                    custom = f"{custom}_{index + 1}"
                used.add(custom)
            label = header or f"Column {index + 1}"
            field = forms.ChoiceField(
                label=label,
                choices=[*choices, (custom, f"Custom field “{custom.removeprefix('custom:')}”")],
                initial=guess or "",
                required=False,
            )
            self.fields[f"col_{index}"] = field
            self.columns.append(f"col_{index}")

    def column_fields(self):
        return [self[name] for name in self.columns]

    def clean(self):
        data = super().clean()
        seen: dict[str, str] = {}
        for name in self.columns:
            target = data.get(name) or ""
            if target and not target.startswith("custom:"):
                if target in seen:
                    label = dict(self.fields[name].choices).get(target, target)
                    raise forms.ValidationError(
                        f"“{label}” is chosen for two columns "
                        f"({seen[target]} and {self.fields[name].label}); "
                        "choose it once and ignore or keep the other as a custom field."
                    )
                seen[target] = self.fields[name].label
        return data

    @property
    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(name) or "" for name in self.columns]

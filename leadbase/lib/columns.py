"""Maps CSV header cells to lead fields: a guess for the import page, and a check before importing.

Invariants:
- Pure helpers, no Django.
- `guess_mapping` returns exactly one target per header cell: a name from `FIELDS`,
  `"custom:<slug>"`, or `""` (ignore). Each field in `FIELDS` is taken by at most one column
  (the first that matches); later matches become custom columns, so no value is dropped.
- Matching ignores case, accents, spaces and punctuation ("E-Mail-Adresse" == "email adresse"),
  then retries without filler words ("Person - Email - Work" -> "email").
- A bare "Name" (also Nom, Nombre, Nome, Naam) next to only a first-name column is the last
  name (German "Vorname, Name"), next to only a last-name column the first name
  ("Name, Surname"); otherwise the full name.
- Custom slugs are lowercase ASCII `[a-z0-9_]`, at most 50 characters, unique in one mapping.
"""

from __future__ import annotations

import re
import unicodedata

from leadbase.lib.csvfile import CsvError

FIELDS: tuple[str, ...] = (
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "country",
    "source",
    "notes",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
)
CUSTOM_PREFIX = "custom:"
IGNORE = ""
NAME_FIELDS = frozenset({"name", "first_name", "last_name"})
CONTACT_FIELDS = frozenset({"email", "phone"})
_SLUG_MAX = 50

# Header spellings seen in spreadsheets, trade-show scanners and CRM exports (HubSpot,
# Salesforce, Mautic, Pipedrive, Zoho, Odoo, LinkedIn, Outlook, Google Contacts), plus German,
# French, Spanish, Italian and Dutch. Written as people write them and compared normalized, so
# "Email address" also covers "E-Mail Address", "email_address" and "emailAddress", and
# "Telephone" covers "Téléphone".
# fmt: off
_ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "Full name", "Contact name", "Contact", "Lead name", "Person name", "Display name",
        "Nom complet", "Nombre completo", "Vollständiger Name", "Volledige naam", "Nome completo",
        "Nome e cognome",
    ),
    "first_name": (
        "First name", "First", "Given name", "Forename", "Fname", "Vorname", "Prénom", "Voornaam",
    ),
    "last_name": (
        "Last name", "Last", "Surname", "Family name", "Lname", "Nachname", "Familienname",
        "Nom de famille", "Apellido", "Apellidos", "Cognome", "Achternaam",
    ),
    "email": (
        "E-mail", "Mail", "Email address", "E-Mail-Adresse", "Mail address", "Email ID",
        "Adresse e-mail", "Adresse électronique", "Courriel", "Correo", "Correo electrónico",
        "E-mailadres", "Indirizzo email", "Posta elettronica",
    ),
    "phone": (
        "Phone", "Phone number", "Mobile", "Mobile phone", "Mobile number", "Phone mobile",
        "Cell", "Cell phone", "Tel", "Telephone", "Telephone number", "Contact number",
        "Telefon", "Telefonnummer", "Mobil", "Mobilnummer", "Mobiltelefon", "Handy",
        "Handynummer", "Rufnummer", "Mobilfunknummer", "Portable", "Numéro de téléphone",
        "Téléphone portable", "Teléfono", "Teléfono móvil", "Número de teléfono", "Móvil",
        "Celular", "Telefono", "Numero di telefono", "Cellulare", "Telefoon", "Telefoonnummer",
        "Mobiel", "Mobiel nummer", "Mobiele telefoon",
    ),
    "company": (
        "Company", "Company name", "Organization", "Organisation", "Organization name",
        "Organisation name", "Org", "Account", "Account name", "Employer", "Business name",
        "Company / Account", "Associated company", "Firma", "Firmenname", "Unternehmen",
        "Société", "Entreprise", "Nom de l'entreprise", "Raison sociale", "Empresa", "Compañía",
        "Nombre de la empresa", "Azienda", "Società", "Ragione sociale", "Bedrijf",
        "Bedrijfsnaam", "Organisatie",
    ),
    "job_title": (
        "Job title", "Title", "Position", "Job position", "Role", "Job role", "Job",
        "Job function", "Designation", "Occupation", "Berufsbezeichnung", "Funktion", "Titel",
        "Poste", "Fonction", "Intitulé du poste", "Cargo", "Puesto", "Ruolo", "Qualifica",
        "Functie", "Functietitel",
    ),
    "country": (
        "Country", "Country/Region", "Country name", "Mailing country", "Land", "Nation", "Pays",
        "País", "Paese", "Nazione",
    ),
    "source": (
        "Source", "Lead source", "Original source", "Lead origin", "Origin", "Quelle", "Herkunft",
        "Origine", "Fuente", "Origen", "Fonte", "Bron",
    ),
    "notes": (
        "Notes", "Note", "Comments", "Comment", "Description", "Remarks", "Message", "Notizen",
        "Notiz", "Bemerkung", "Bemerkungen", "Anmerkungen", "Kommentar", "Commentaires",
        "Commentaire", "Notas", "Comentarios", "Opmerkingen", "Notities",
    ),
    "utm_source": ("utm_source",),
    "utm_medium": ("utm_medium",),
    "utm_campaign": ("utm_campaign",),
    "utm_term": ("utm_term",),
    "utm_content": ("utm_content",),
    "referrer": (
        "Referrer", "Referer", "Referrer URL", "Referring URL", "HTTP referer", "Referring site",
    ),
}
# "Name" alone: full name, or the missing half when only one name part has its own column.
_BARE_NAMES = ("Name", "Nom", "Nombre", "Nome", "Naam")
# Words that qualify a field without changing it: "Work email", "Person - Phone", "Email 1 - Value".
_FILLER = frozenset({
    "person", "contact", "lead", "primary", "work", "business", "office", "home", "personal",
    "private", "main", "value", "address", "number", "no", "nr", "num", "1", "2", "3",
})
# fmt: on


def _tokens(text: str) -> list[str]:
    """Lowercase ASCII words of `text`: accents dropped, ß -> ss, punctuation splits words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.findall(r"[a-z0-9]+", ascii_text)


def _key(text: str) -> str:
    return "".join(_tokens(text))


_BARE = "bare name"
_LOOKUP: dict[str, str] = {
    _key(alias): field for field, aliases in _ALIASES.items() for alias in aliases
} | {_key(alias): _BARE for alias in _BARE_NAMES}


def _match(cell: str) -> str | None:
    """The field (or `_BARE`) a header cell names, or None."""
    tokens = _tokens(cell)
    found = _LOOKUP.get("".join(tokens))
    if found is None:
        found = _LOOKUP.get("".join(t for t in tokens if t not in _FILLER))
    return found


def _slug(cell: str, index: int) -> str:
    slug = "_".join(_tokens(cell))[:_SLUG_MAX].strip("_")
    return slug or f"column_{index + 1}"  # e.g. a header written only in CJK characters


def guess_mapping(header: list[str]) -> list[str]:
    """One target per header cell: a `FIELDS` name, `"custom:<slug>"`, or `""` (empty cell)."""
    matches = [_match(cell) if cell.strip() else None for cell in header]
    has_first, has_last = "first_name" in matches, "last_name" in matches
    bare_target = (
        "last_name"
        if has_first and not has_last
        else "first_name"
        if has_last and not has_first
        else "name"
    )
    taken: set[str] = set()
    slugs: set[str] = set()
    mapping: list[str] = []
    for index, (cell, match) in enumerate(zip(header, matches, strict=True)):
        field = bare_target if match == _BARE else match
        if not cell.strip():
            mapping.append(IGNORE)
        elif field is not None and field not in taken:
            taken.add(field)
            mapping.append(field)
        else:
            slug = base = _slug(cell, index)
            suffix = 2
            while slug in slugs:
                slug = f"{base}_{suffix}"
                suffix += 1
            slugs.add(slug)
            mapping.append(CUSTOM_PREFIX + slug)
    return mapping


def validate_mapping(mapping: list[str]) -> None:
    """Check a mapping (guessed or chosen by hand) can produce leads.

    Raises `CsvError("no_usable_columns")` unless some column gives a name (name, first_name or
    last_name) and some column an email or phone. Raises plain `ValueError` for a target that is
    not a field, `custom:<key>` or `""`, or a field chosen for two columns: a form must not
    offer those, so they are programming errors, not a marketer's.
    """
    seen: set[str] = set()
    for target in mapping:
        if target in seen and target in FIELDS:
            raise ValueError(f"{target!r} is mapped from more than one column")
        if (
            target not in FIELDS
            and target != IGNORE
            and not (target.startswith(CUSTOM_PREFIX) and len(target) > len(CUSTOM_PREFIX))
        ):
            raise ValueError(f"{target!r} is not a lead field, 'custom:<key>' or ''")
        seen.add(target)
    has_name = not seen.isdisjoint(NAME_FIELDS)
    has_contact = not seen.isdisjoint(CONTACT_FIELDS)
    if has_name and has_contact:
        return
    if has_name:
        message = (
            "No column looks like an email or phone, so no row could become a lead: "
            "choose the column that holds the email address or phone number."
        )
    elif has_contact:
        message = (
            "No column looks like a name: choose the column with the full name, "
            "or the first name and last name columns."
        )
    else:
        message = (
            "No column looks like a name, and no column looks like an email or phone: "
            "choose them by hand, or rename the headers to e.g. Name, Email, Phone."
        )
    raise CsvError("no_usable_columns", message)

"""The contact-cleaning API in one import: emails, phones, names, countries.

Invariants: pure functions, no Django; every rejected value raises `Invalid` (a ValueError with
`code` and `message`); None or blank input means "no value given" and returns None.
"""

from leadbase.lib.countries import country_code, phone_region_for
from leadbase.lib.emails import ROLE_MAILBOXES, Email, clean_email
from leadbase.lib.errors import Invalid
from leadbase.lib.names import (
    clean_name,
    join_name,
    name_key,
    names_agree,
    names_clearly_differ,
    split_name,
)
from leadbase.lib.phones import Phone, clean_phone

__all__ = [
    "ROLE_MAILBOXES",
    "Email",
    "Invalid",
    "Phone",
    "clean_email",
    "clean_name",
    "clean_phone",
    "country_code",
    "join_name",
    "name_key",
    "names_agree",
    "names_clearly_differ",
    "phone_region_for",
    "split_name",
]

"""One line, not a traceback, for a setting the ``leadbase`` command cannot start with.

``leadbase.settings`` raises ``SettingError`` naming the variable at fault; a database that cannot
be reached is said the same way when the command first connects (to apply migrations). Anything
else is a fault of Leadbase's and keeps its traceback.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class SettingError(ValueError):
    """A variable that cannot be used, said in one line that names it."""


@contextmanager
def stop_on_setting_error() -> Iterator[None]:
    from django.db.utils import OperationalError

    try:
        yield
    except SettingError as exc:
        sys.exit(f"leadbase: {exc}")
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.exit(f"leadbase: the database (DATABASE_URL) cannot be reached: {first}")


def shown(url: str) -> str:
    """``url`` as a message may show it: a password in it replaced by ``***`` (errors and
    warnings go to the service's logs)."""
    # Up to the last @: a password with an unescaped # or / in it is no URL's password, and is
    # hidden all the same.
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^:/@]*:).*@", r"\1***@", url, flags=re.IGNORECASE)

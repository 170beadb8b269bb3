"""HTML markup in text people send: the one kind every entry point refuses, script tags.

Values are stored and shown as text, escaped wherever Leadbase renders them, so markup in a
name or a company is harmless on Leadbase's own pages. A script tag is refused anyway: no person
types one in good faith, and the value travels on to places Leadbase does not control (exports
opened elsewhere, webhook receivers, CRMs that render what they get). Forms and the API refuse
the same pattern, so a value one of them takes the other takes too.
"""

from __future__ import annotations

import re

#: An HTML script tag, opening or closing, as browsers read it: any case, blanks after ``<`` and
#: around ``/`` (``< SCRIPT``, ``</script``), and nothing but a word boundary after the name, so
#: ``<scripture>`` is prose but ``<script>`` and ``<script src=…>`` are tags.
SCRIPT_TAG = re.compile(r"<\s*/?\s*script\b", re.IGNORECASE)


def has_script_tag(value: str) -> bool:
    """Whether ``value`` holds a script tag; the ``<`` test first keeps ordinary text cheap."""
    return "<" in value and SCRIPT_TAG.search(value) is not None

"""The shared form field template (``web/_field.html``): what Django's inputs point at exists."""

from __future__ import annotations

import re

from django import forms
from django.template.loader import render_to_string


class _Sample(forms.Form):
    url = forms.URLField(help_text="Where the deliveries go.", assume_scheme="https")
    plain = forms.CharField(required=False)


def _described(page: str) -> list[str]:
    return [i for ids in re.findall(r'aria-describedby="([^"]+)"', page) for i in ids.split()]


def test_the_help_and_the_error_an_input_is_described_by_are_on_the_page():
    form = _Sample(data={"url": "not a url"})
    assert not form.is_valid()
    page = "".join(render_to_string("web/_field.html", {"field": field}) for field in form)

    described = _described(page)
    assert set(described) == {"id_url_helptext", "id_url_error"}
    for element_id in described:
        assert page.count(f'id="{element_id}"') == 1
    assert 'id="id_url_error">' in page and "Enter a valid URL." in page


def test_a_valid_field_without_help_points_at_nothing():
    form = _Sample(data={"url": "https://example.com/hook"})
    assert form.is_valid()
    page = render_to_string("web/_field.html", {"field": form["plain"]})

    assert "aria-describedby" not in page and "field-error" not in page

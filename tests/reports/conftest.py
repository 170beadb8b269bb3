"""Report test fixtures: a client per persona and the workspace's contact landing page."""

from __future__ import annotations

import pytest

from leadbase.capture.models import Form, LandingPage


@pytest.fixture
def contact_page(personas) -> LandingPage:
    form = Form.objects.create(workspace=personas.workspace, slug="contact", name="Contact")
    return LandingPage.objects.create(
        workspace=personas.workspace, slug="contact", form=form, headline="Talk to us"
    )

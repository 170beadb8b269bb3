"""What the form builder offers to put a form on another site: the embed script, and a plain
HTML form that says truly what it lacks, carries the page and its UTM tags, and is not offered
for a proof-of-work form, which it could never pass."""

from __future__ import annotations

import pytest
from django.test import Client

from leadbase.capture.actions import UTM_KEYS, do_create_form
from leadbase.capture.models import Submission
from leadbase.leads.models import Lead

pytestmark = pytest.mark.django_db

FIELDS = [{"key": "name"}, {"key": "email", "type": "email"}]


def builder_page(personas, *, proof_of_work: bool):
    form = do_create_form(
        personas.workspace,
        {"name": "Guarded", "fields": FIELDS, "proof_of_work": proof_of_work},
        actor=None,
    )
    client = Client()
    client.force_login(personas.marketer)
    return client.get(f"/capture/forms/{form.pk}/")


def test_a_proof_of_work_form_shows_a_warning_instead_of_a_plain_html_form(personas):
    response = builder_page(personas, proof_of_work=True)

    page = response.content.decode()
    assert response.context["html_snippet"] == ""
    assert 'aria-label="Plain HTML form"' not in page
    assert "a plain HTML form cannot pass" in page
    assert "Use the embed script or the hosted page" in page
    assert "/f/guarded/embed.js" in page


def test_a_plain_html_form_post_to_a_proof_of_work_form_is_spam_as_the_warning_says(
    client, personas
):
    builder_page(personas, proof_of_work=True)

    response = client.post(
        "/f/guarded",
        "name=Plain+Pat&email=pat%40example.org",
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT="text/html",
    )

    assert response.status_code == 200 and "Thank you" in response.content.decode()
    assert Submission.objects.get().spam_reason == "pow_missing"
    assert not Lead.objects.exists()


def test_the_plain_html_form_says_which_spam_checks_it_goes_without(personas):
    response = builder_page(personas, proof_of_work=False)

    page = response.content.decode()
    assert 'aria-label="Plain HTML form"' in page
    assert "only the rate limits apply to it" in page
    assert "proof of work" not in page.split("Plain HTML form</summary>")[1].split("</details>")[0]


def test_the_plain_html_form_has_hidden_inputs_for_the_page_and_its_utm_tags(personas):
    snippet = builder_page(personas, proof_of_work=False).context["html_snippet"]

    for key in ("lb_page", "lb_referrer", *UTM_KEYS):
        assert f'<input type="hidden" name="{key}">' in snippet
    action = "http://127.0.0.1:8000/f/guarded"
    assert f'<form action="{action}" method="post" id="leadbase-guarded">' in snippet
    script = snippet.split("<script>")[1]
    assert 'document.getElementById("leadbase-guarded")' in script
    assert "location.href" in script and 'indexOf("utm_")' in script
    assert "<script src" not in snippet  # our few lines, shown in full: nothing loaded

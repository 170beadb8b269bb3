"""The lead page of a lead captured by a form: the posts that made it, its first touch, and the
proof of a double opt-in, as a marketer reads them."""

from __future__ import annotations

import json
import re

import pytest
from django.core import mail
from django.urls import reverse

from leadbase.capture.demo import load_demo_forms
from leadbase.leads.actions import do_merge_leads
from leadbase.leads.models import Lead
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

PAGE = (
    "https://www.example.com/p/contact?utm_source=instagram&utm_medium=social"
    "&utm_campaign=spring&lb_link=ig42"
)
ADA = {
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "consent_email_marketing": True,
    "lb_page": PAGE,
    "lb_referrer": "https://l.instagram.com/",
}


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "imports"],
        }
    }


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


def submit(client, body: dict, ip: str = "192.0.2.5") -> None:
    response = client.post("/f/contact", json.dumps(body), content_type="application/json",
                           REMOTE_ADDR=ip)
    assert response.status_code in (200, 201), response.content


def lead_page(client_as, lead: Lead) -> str:
    return client_as("owner").get(reverse("web:lead", kwargs={"pk": lead.pk})).content.decode()


def section(body: str, start: str, end: str) -> str:
    return body[body.index(start) : body.index(end, body.index(start))]


def test_a_confirmed_consent_shows_the_request_and_the_confirmation(
    client, form, client_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, ADA)
    url = re.search(r"https?://\S+/c/\S+", mail.outbox[0].body).group(0)
    client.post(url[url.index("/c/") :], REMOTE_ADDR="192.0.2.77")

    consents = section(lead_page(client_as, Lead.objects.get()), 'id="consents"', "</ul>")
    assert "Granted" in consents
    assert "Confirmed by email link · form contact · IP 192.0.2.77" in consents
    # The request keeps its own proof: confirming overwrote the consent's time and IP.
    assert "Requested" in consents and "form contact · IP 192.0.2.5" in consents
    assert "double_opt_in" not in consents


def test_the_first_touch_shows_the_landing_page_and_tracked_link_of_the_post(
    client, form, client_as
):
    submit(client, ADA)
    body = lead_page(client_as, Lead.objects.get())
    first = section(body, "First touch", "Last touch")
    assert "Landing page" in first and PAGE.replace("&", "&amp;") in first
    assert "/r/ig42" in first
    last = section(body, "Last touch", 'id="consents"')
    assert "<dd class=\"break\">Form</dd>" in last  # the source's label, not its code


def test_the_tracked_link_is_named_with_its_label_and_channel(client, form, client_as, personas):
    # The page showed only "/r/ig42": which post, which account, the marketer had to look up.
    from leadbase.capture.channels import LinkSpec, do_create_channel, do_create_link

    channel = do_create_channel(personas.workspace, platform="instagram", handle="acme", actor=None)
    do_create_link(personas.workspace, LinkSpec(channel=channel, page=form.pages.get(), label="Spring reel"),
                   code="ig42", actor=None)
    submit(client, ADA)
    submit(client, {**ADA, "lb_page": "https://www.example.com/p/contact?lb_link=gone1"})

    body = lead_page(client_as, Lead.objects.get())
    first = section(body, "First touch", "Last touch")
    assert "Spring reel" in first and "/r/ig42" in first
    assert f'<a href="{reverse("channels:detail", args=[channel.pk])}">Instagram @acme</a>' in first
    last = section(body, "Last touch", 'id="consents"')
    assert "/r/gone1" in last and "(no such link now)" in last


def test_the_posts_of_a_merged_lead_are_listed_with_where_they_came_from(
    client, form, client_as
):
    submit(client, ADA)
    submit(
        client,
        {"name": "Ada King", "email": "ada.king@example.org",
         "lb_page": "https://www.example.com/p/contact?utm_source=facebook&lb_link=fb7",
         "lb_referrer": "https://m.facebook.com/"},
        ip="198.51.100.9",
    )
    keep, other = Lead.objects.order_by("id")
    do_merge_leads(keep, other, actor=None)

    posts = section(lead_page(client_as, keep), 'id="submissions"', "</section>")
    assert posts.count("<li>") == 2
    for text in ("made this lead", "/r/ig42", "https://l.instagram.com/", "192.0.2.5",
                 "/r/fb7", "https://m.facebook.com/", "facebook", "198.51.100.9"):
        assert text in posts, text


def test_a_lead_without_form_posts_has_no_submissions_section(personas, client_as):
    assert 'id="submissions"' not in lead_page(client_as, make_lead(personas.workspace))


def test_a_sales_rep_sees_the_posts_of_their_lead_but_not_of_others(
    client, form, personas, client_as
):
    submit(client, ADA)
    lead = Lead.objects.get()
    url = reverse("web:lead", kwargs={"pk": lead.pk})
    assert client_as("sales").get(url).status_code == 404
    Lead.objects.filter(pk=lead.pk).update(owner=personas.sales)
    assert "/r/ig42" in client_as("sales").get(url).content.decode()


def test_consent_timeline_entries_use_words_not_codes(client, form, client_as):
    submit(client, ADA)
    timeline = section(lead_page(client_as, Lead.objects.get()), 'id="timeline"', "</section>")
    assert "<li>Email marketing: Pending confirmation</li>" in timeline
    assert "<li>Form: contact</li>" in timeline and "<li>IP: 192.0.2.5</li>" in timeline
    assert "email_marketing" not in timeline and "Ip:" not in timeline


def test_a_list_in_a_custom_field_reads_as_text(personas, client_as):
    lead = make_lead(personas.workspace, custom={"tags": ["demo", "vip"]})
    body = lead_page(client_as, lead)
    assert "demo, vip" in body and "[&#x27;demo" not in body


def test_a_ticked_checkbox_field_reads_yes(personas, client_as):
    lead = make_lead(personas.workspace, custom={"attend_live": True, "recording": False})
    body = lead_page(client_as, lead)  # (the keys' order is the database's: PostgreSQL sorts them)
    assert '<dt>Attend live</dt><dd class="pre">Yes</dd>' in body
    assert '<dt>Recording</dt><dd class="pre">No</dd>' in body
    assert ">True<" not in body and ">False<" not in body

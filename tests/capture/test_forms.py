"""The form builder (actions and pages), landing pages, the embed script and the demo form."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from leadbase.capture.actions import do_create_form, do_save_landing_page, do_update_form
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.errors import FormConfigError
from leadbase.capture.markdown import render_markdown
from leadbase.capture.models import Form, LandingPage, Submission

pytestmark = pytest.mark.django_db

BASIC = {"name": "Newsletter", "fields": [{"key": "name"}, {"key": "email", "type": "email"}]}


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- actions --------------------------------------------------------------------------------


def test_a_form_is_created_with_clean_keys_origins_and_tags(personas):
    form = do_create_form(
        personas.workspace,
        {
            **BASIC,
            "allowed_origins": ["https://WWW.Example.com/", "http://localhost:3000"],
            "tags": ["b", " a ", "b", ""],
            "consents": [{"purpose": "calls", "text": "Call me.", "required": "on"}],
        },
        actor=personas.owner,
    )

    assert form.slug == "newsletter"
    assert form.fields[0] == {"key": "name", "label": "Name", "type": "text", "required": False}
    assert form.allowed_origins == ["http://localhost:3000", "https://www.example.com"]
    assert form.tags == ["a", "b"]
    assert form.consents == [{"purpose": "calls", "text": "Call me.", "required": True}]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"fields": [{"key": "email"}]}, "no_name_field"),
        ({"fields": [{"key": "name"}, {"key": "company"}]}, "no_contact_field"),
        ({"fields": [{"key": "name"}, {"key": "email"}, {"key": "email"}]}, "duplicate_key"),
        ({"fields": [{"key": "name"}, {"key": "email"}, {"key": "utm_source"}]}, "reserved_key"),
        ({"fields": [{"key": "name"}, {"key": "email"}, {"key": "fax"}]}, "reserved_key"),
        ({"fields": [{"key": "name"}, {"key": "email"}, {"key": "Bad Key"}]}, "invalid_key"),
        (
            {"fields": [{"key": "name"}, {"key": "email"}, {"key": "size", "type": "select"}]},
            "no_options",
        ),
        ({"consents": [{"purpose": "email_marketing", "text": ""}]}, "no_consent_text"),
        ({"consents": [{"purpose": "gossip", "text": "x"}]}, "invalid_purpose"),
        ({"allowed_origins": ["https://example.com/path"]}, "invalid_origin"),
        ({"allowed_origins": ["javascript:alert(1)"]}, "invalid_origin"),
        ({"redirect_url": "javascript:alert(1)"}, "invalid_url"),
        ({"redirect_url": "https://[example.com/thanks"}, "invalid_url"),  # no URL at all
        ({"hidden_fields": {"email": "x"}}, "duplicate_key"),
    ],
)
def test_a_form_that_cannot_work_is_refused_with_a_reason(personas, change, code):
    with pytest.raises(FormConfigError) as caught:
        do_create_form(personas.workspace, {**BASIC, **change}, actor=None)

    assert caught.value.code == code
    assert not Form.objects.exists()


def test_slugs_are_unique_across_workspaces_because_public_routes_have_none(personas):
    do_create_form(personas.other_workspace, BASIC, actor=None)

    with pytest.raises(FormConfigError) as caught:
        do_create_form(personas.workspace, BASIC, actor=None)

    assert (caught.value.code, caught.value.field) == ("slug_taken", "slug")


def test_the_owner_on_submit_must_be_a_member_of_the_workspace(personas):
    with pytest.raises(FormConfigError) as caught:
        do_create_form(personas.workspace, {**BASIC, "owner": personas.outsider}, actor=None)

    assert caught.value.code == "not_member"


def test_updating_a_form_keeps_its_slug_free_for_itself(personas):
    form = do_create_form(personas.workspace, BASIC, actor=None)

    do_update_form(
        form, {**BASIC, "slug": "newsletter", "double_opt_in": False}, actor=personas.owner
    )

    form.refresh_from_db()
    assert (form.slug, form.double_opt_in) == ("newsletter", False)


def test_the_demo_form_is_loaded_once(personas):
    first = load_demo_forms(personas.workspace, personas.owner)
    first.name = "Edited by a marketer"
    first.save()

    again = load_demo_forms(personas.workspace, personas.owner)

    assert again.pk == first.pk and again.name == "Edited by a marketer"
    assert [f["key"] for f in again.fields] == ["name", "email", "phone"]
    assert again.double_opt_in and again.consents[0]["purpose"] == "email_marketing"
    assert LandingPage.objects.get().slug == "contact"


def test_markdown_is_rendered_and_anything_executable_is_removed():
    html = render_markdown(
        "## Hi\n\n**bold** <script>alert(1)</script> [x](javascript:alert(1)) "
        '<img src="https://e.com/a.png" onerror="alert(1)"> [site](https://e.com)'
    )

    assert "<h2>Hi</h2>" in html and "<strong>bold</strong>" in html
    assert "script" not in html and "javascript:" not in html and "onerror" not in html
    assert '<a href="https://e.com" rel="noopener noreferrer nofollow">site</a>' in html


def test_a_landing_page_image_must_be_a_web_address(form):
    with pytest.raises(FormConfigError) as caught:
        do_save_landing_page(
            form, {"headline": "Hi", "image_url": "javascript:alert(1)"}, actor=None
        )

    assert caught.value.field == "image_url"


# --- public pages ---------------------------------------------------------------------------


def test_the_landing_page_shows_the_headline_the_body_and_a_form_that_needs_no_script(client, form):
    do_save_landing_page(
        form,
        {
            "headline": "Talk to us",
            "body": "Hello **there** <script>x()</script>",
            "image_url": "https://cdn.example.com/hero.jpg",
        },
        actor=None,
    )

    response = client.get(
        "/p/contact?utm_source=instagram", HTTP_REFERER="https://l.instagram.com/"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<h1>Talk to us</h1>" in page and "<strong>there</strong>" in page and "x()" not in page
    assert '<img class="lb-hero" src="https://cdn.example.com/hero.jpg" alt="">' in page
    assert '<form class="lb-form" method="post" action="/f/contact">' in page
    assert form.consents[0]["text"] in page
    assert 'name="lb_page" value="http://testserver/p/contact?utm_source=instagram"' in page
    assert 'name="lb_referrer" value="https://l.instagram.com/"' in page
    assert "<script" not in page  # no proof of work on this form: nothing to run


def test_a_landing_page_gives_link_previews_its_headline_text_and_image(client, form, settings, personas):
    """A post's link (a tracked link redirects here) previews with the page, not a bare URL."""
    settings.BASE_URL = "https://leads.acme.example"
    personas.workspace.name = "Acme Studio"
    personas.workspace.save()
    do_save_landing_page(
        form,
        {
            "headline": "Spring workshop",
            "body": "## Learn **pottery** & glazing\n\nThree evenings, " + "small groups " * 30,
            "image_url": "https://cdn.acme.example/hero.jpg",
            "image_alt": "A bowl on a wheel",
        },
        actor=None,
    )

    page = client.get("/p/contact?utm_source=instagram&lb_link=ig1").content.decode()

    assert '<meta property="og:title" content="Spring workshop">' in page
    assert '<meta property="og:url" content="https://leads.acme.example/p/contact">' in page  # no tags
    assert '<link rel="canonical" href="https://leads.acme.example/p/contact">' in page
    assert '<meta property="og:image" content="https://cdn.acme.example/hero.jpg">' in page
    assert '<meta property="og:image:alt" content="A bowl on a wheel">' in page
    assert '<meta property="og:site_name" content="Acme Studio">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    description = re.search(r'<meta property="og:description" content="([^"]*)">', page).group(1)
    assert description.startswith("Learn pottery &amp; glazing Three evenings, small groups")
    assert len(html.unescape(description)) <= 200 and description.endswith("…")


def test_a_landing_page_preview_keeps_list_items_apart(client, form):
    do_save_landing_page(form, {"headline": "Talk to us", "body": "We call you.\n\n- a short call\n- a demo\n- no obligation"},
                         actor=None)

    page = client.get("/p/contact").content.decode()

    assert '<meta property="og:description" content="We call you. a short call · a demo · no obligation">' in page


def test_a_marketer_previews_an_unpublished_page_with_its_form_which_cannot_be_sent(personas, form):
    """A new page went live at its first save, with no way to see it whole before."""
    page = do_save_landing_page(form, {"headline": "Spring", "body": "Hello", "is_published": False}, actor=None)
    client = logged_in(personas.marketer)
    url = f"/capture/forms/{form.pk}/page/preview"

    preview = client.get(url)

    text = preview.content.decode()
    assert preview.status_code == 200 and preview["Cache-Control"] == "no-store"
    assert "<h1>Spring</h1>" in text and 'name="email"' in text  # the page and its form
    assert "Preview: not published, visitors get “not found”" in text
    assert '<form class="lb-form" method="post">' in text and " disabled " in text  # nowhere to send
    assert '<meta name="robots" content="noindex">' in text
    assert Client().get(f"/p/{page.slug}").status_code == 404  # still not live
    assert logged_in(personas.sales).get(url).status_code == 403
    assert f'href="{url}"' in client.get(f"/capture/forms/{form.pk}/page").content.decode()


def test_link_checkers_may_ask_for_the_public_pages_with_head(client, form):
    assert [
        client.head(url).status_code for url in ("/p/contact", "/f/contact", "/f/contact/embed.js")
    ] == [200, 200, 200]


def test_an_unpublished_landing_page_is_not_found(client, form):
    do_save_landing_page(form, {"headline": "Talk to us", "is_published": False}, actor=None)

    assert client.get("/p/contact").status_code == 404


def test_the_embed_script_carries_the_definition_and_a_fresh_token(client, form):
    response = client.get("/f/contact/embed.js")

    script = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert '"action": "http://testserver/f/contact"' in script and '"token": "contact:' in script
    assert "{{" not in script and "window.LeadbasePow" in script


def test_text_in_the_embedded_definition_cannot_close_the_script(client, personas):
    do_create_form(
        personas.workspace,
        {**BASIC, "thank_you_message": "</script><script>alert(1)</script>"},
        actor=None,
    )

    script = client.get("/f/newsletter/embed.js").content.decode()

    assert "</script>" not in script


# --- builder pages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"), [("owner", 200), ("marketer", 200), ("sales", 403), ("viewer", 403)]
)
def test_only_owners_and_marketers_use_the_form_builder(personas, form, persona, status):
    client = logged_in(getattr(personas, persona))

    for url in (
        "/capture/forms/",
        "/capture/forms/new",
        f"/capture/forms/{form.pk}/",
        f"/capture/forms/{form.pk}/page",
        f"/capture/forms/{form.pk}/submissions",
    ):
        assert client.get(url).status_code == status, url


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/capture/forms/")

    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_another_workspaces_form_is_not_found(personas, form):
    client = logged_in(personas.outsider)

    assert client.get(f"/capture/forms/{form.pk}/").status_code == 404
    assert client.get(f"/capture/forms/{form.pk}/submissions").status_code == 404


def _builder_post(name: str, **extra: str) -> dict[str, str]:
    data = {
        "name": name,
        "slug": "",
        "thank_you_message": "Thanks!",
        "redirect_url": "",
        "tags": "spring, webinar",
        "allowed_origins": "https://www.example.com",
        "hidden_fields": "campaign=q3",
        "owner": "",
        "double_opt_in": "on",
        "is_published": "on",
        "fields-TOTAL_FORMS": "4",
        "fields-INITIAL_FORMS": "3",  # as the page renders them
        "fields-0-key": "name",
        "fields-0-label": "Name",
        "fields-0-type": "text",
        "fields-0-required": "on",
        "fields-1-key": "email",
        "fields-1-label": "Email",
        "fields-1-type": "email",
        "fields-1-required": "on",
        "fields-2-key": "size",
        "fields-2-label": "Team size",
        "fields-2-type": "select",
        "fields-2-options": "1-10, 11-50",
        "consents-TOTAL_FORMS": "1",
        "consents-INITIAL_FORMS": "1",
        "consents-0-purpose": "email_marketing",
        "consents-0-text": "Email me news.",
    }
    return data | extra


def test_a_marketer_builds_a_form_and_gets_the_snippet_to_embed(personas):
    client = logged_in(personas.marketer)

    response = client.post("/capture/forms/new", _builder_post("Spring webinar"))

    form = Form.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/capture/forms/{form.pk}/"
    assert [f["key"] for f in form.fields] == ["name", "email", "size"]
    assert form.fields[2]["options"] == ["1-10", "11-50"]
    assert (form.tags, form.hidden_fields, form.allowed_origins) == (
        ["spring", "webinar"],
        {"campaign": "q3"},
        ["https://www.example.com"],
    )
    page = client.get(response["Location"]).content.decode()
    assert "/f/spring-webinar/embed.js&quot;&gt;&lt;/script&gt;" in page
    assert "action=&quot;http://127.0.0.1:8000/f/spring-webinar&quot;" in page


def test_saving_warns_of_links_an_unpublished_form_breaks_and_of_a_redirect_hiding_the_optin(personas):
    # Unpublishing said only "saved" while the form's tracked links began to answer 404.
    from leadbase.capture.channels import LinkSpec, do_create_link

    client = logged_in(personas.marketer)
    client.post("/capture/forms/new", _builder_post("Spring webinar"))
    form = Form.objects.get()
    page = do_save_landing_page(form, {"headline": "Spring", "slug": "spring", "body": ""}, actor=None)
    do_create_link(personas.workspace, LinkSpec(page=page), code="spring-li", actor=None)
    edit = f"/capture/forms/{form.pk}/"

    kept = client.post(edit, _builder_post("Spring webinar", slug="spring-webinar"), follow=True)
    assert "tracked links" not in kept.content.decode()  # still published: nothing to say
    unpublished = _builder_post("Spring webinar", slug="spring-webinar", redirect_url="https://www.example.com/next")
    del unpublished["is_published"]
    said = client.post(edit, unpublished, follow=True).content.decode()

    assert "these tracked links now answer “not found” and count no clicks: /r/spring-li." in said
    assert "Visitors go straight to https://www.example.com/next after sending" in said
    # Once the message is gone, the page editor and the links list still say so.
    page_tab = client.get(f"/capture/forms/{form.pk}/page").content.decode()
    assert "Live at" not in page_tab
    assert "/p/spring answers “not found”: its form is not published." in page_tab
    links = client.get("/capture/channels/links/").content.decode()
    assert "its form is not published: the link answers “not found”" in links


def test_the_builder_shows_why_a_form_cannot_be_saved(personas):
    client = logged_in(personas.owner)

    response = client.post(
        "/capture/forms/new", _builder_post("Broken", **{"fields-1-key": "company"})
    )

    assert response.status_code == 400
    assert "needs an `email` or a `phone` field" in response.content.decode()
    assert not Form.objects.exists()


def test_the_builder_marks_every_problem_in_one_save(personas):
    """A bad slug, then one bad key, then the next: each save showed one stage of them."""
    client = logged_in(personas.owner)
    post = _builder_post(
        "Rows", slug="Has Spaces!",
        **{"fields-2-key": "utm_source", "fields-3-key": "Bad Key", "fields-3-type": "text",
           "fields-TOTAL_FORMS": "5", "fields-4-key": "budget", "fields-4-type": "select"},
    )

    response = client.post("/capture/forms/new", post)

    assert response.status_code == 400 and not Form.objects.exists()
    assert response.context["settings_form"].errors["slug"]
    rows = response.context["field_rows"].forms
    assert "reserved" in " ".join(rows[2]["key"].errors)
    assert "The key “Bad Key”" in " ".join(rows[3]["key"].errors)
    assert "The list “budget” needs" in " ".join(rows[4]["options"].errors)

    post["slug"] = "rows"  # the slug fixed: the rows are still refused, each of them again
    again = client.post("/capture/forms/new", post)
    rows = again.context["field_rows"].forms
    assert again.status_code == 400 and [bool(rows[n].errors) for n in (2, 3, 4)] == [True, True, True]


def test_a_web_address_the_page_refuses_does_not_hide_the_other_settings_problems(personas):
    """A redirect that is no URL (refused by the page's own field) hid a taken slug and a bad
    origin until the next save."""
    client = logged_in(personas.owner)
    client.post("/capture/forms/new", _builder_post("Contact"))
    post = _builder_post("Second", slug="contact", redirect_url="notaurl",
                         allowed_origins="https://x.example/path", **{"fields-2-key": "utm_source"})

    response = client.post("/capture/forms/new", post)

    errors = response.context["settings_form"].errors
    assert response.status_code == 400 and Form.objects.count() == 1
    assert {"slug", "redirect_url", "allowed_origins"} <= set(errors), errors
    assert "reserved" in " ".join(response.context["field_rows"].forms[2]["key"].errors)


def test_a_missing_name_does_not_make_up_a_slug_problem(personas):
    # The slug comes from the name: checked with a stand-in name, it was said to be taken.
    client = logged_in(personas.owner)
    client.post("/capture/forms/new", _builder_post("Form"))  # slug "form", the stand-in's

    response = client.post("/capture/forms/new", _builder_post("", **{"fields-2-key": "utm_source"}))

    errors = response.context["settings_form"].errors
    assert response.status_code == 400 and "name" in errors and "slug" not in errors
    assert "reserved" in " ".join(response.context["field_rows"].forms[2]["key"].errors)


def test_a_refused_edit_of_a_saved_form_shows_it_again_unchanged(personas):
    """The refused parts were set to nothing on the form shown again: its snippets, built from
    its slug, failed (500)."""
    client = logged_in(personas.owner)
    client.post("/capture/forms/new", _builder_post("Rows"))
    client.post("/capture/forms/new", _builder_post("Other"))
    form = Form.objects.get(slug="rows")
    post = _builder_post("Renamed", slug="other", **{"fields-2-key": "utm_source"})  # taken; reserved

    response = client.post(f"/capture/forms/{form.pk}/", post)

    assert response.status_code == 400
    assert response.context["form_obj"].slug == "rows"  # as saved, for its snippets
    assert "/f/rows" in response.content.decode()
    form.refresh_from_db()
    assert (form.name, form.slug, form.fields[2]["key"]) == ("Rows", "rows", "size")


@pytest.mark.parametrize(
    "row, marked, message",
    [({"fields-3-key": "Company Name", "fields-3-type": "text"}, "fields-3-key", "The key “Company Name”"),
     ({"fields-3-key": "budget", "fields-3-type": "select"}, "fields-3-options", "The list “budget” needs"),
     ({"fields-3-key": "email", "fields-3-type": "email"}, "fields-3-key", "The key “email” is used twice")],
)
def test_a_rows_error_is_shown_at_that_row_and_the_top_says_the_form_was_not_saved(personas, row, marked, message):
    # The error was only a message at the top, the row (far below) not marked.
    client = logged_in(personas.owner)

    response = client.post("/capture/forms/new", _builder_post("Rows", **row))

    assert response.status_code == 400 and not Form.objects.exists()
    rows = response.context["field_rows"]
    field = rows.forms[3][marked.rsplit("-", 1)[1]]
    assert message in " ".join(field.errors)
    assert [e for f in rows.forms[:3] for e in f.errors.values()] == []  # the row, not its twin
    page = response.content.decode()
    assert "The form was not saved: correct what is marked below." in page
    assert f'id="{field.auto_id}_error"' in page


def test_a_hidden_field_given_twice_is_refused_not_half_kept(personas):
    client = logged_in(personas.owner)

    response = client.post(
        "/capture/forms/new", _builder_post("Twice", hidden_fields="campaign=q3\ncampaign=q4")
    )

    assert response.status_code == 400
    assert "“campaign” is given twice" in response.content.decode()
    assert not Form.objects.exists()


def test_the_landing_page_editor_saves_and_previews_markdown(personas, form):
    client = logged_in(personas.owner)

    response = client.post(
        f"/capture/forms/{form.pk}/page",
        {
            "headline": "Spring",
            "slug": "spring",
            "body": "Come **now**",
            "image_url": "",
            "is_published": "on",
        },
    )

    assert response.status_code == 302
    page = LandingPage.objects.get()
    assert (page.slug, page.headline) == ("spring", "Spring")
    assert "<strong>now</strong>" in client.get(f"/capture/forms/{form.pk}/page").content.decode()

    # The preview shows the page's image too, and says where the form goes (it showed neither).
    client.post(f"/capture/forms/{form.pk}/page", {"headline": "Spring", "slug": "spring", "body": "Come",
                                                   "image_url": "https://cdn.example.com/team.jpg",
                                                   "image_alt": "Our team", "is_published": "on"})
    preview = client.get(f"/capture/forms/{form.pk}/page").content.decode().split("<h2>Preview</h2>")[1]
    assert '<img src="https://cdn.example.com/team.jpg" alt="Our team">' in preview
    assert f"The form “{form.name}” comes here" in preview and 'href="/p/spring"' in preview


def test_the_landing_page_image_is_described_for_screen_readers_or_marked_decorative(personas, form):
    client = logged_in(personas.owner)
    base = {"headline": "Spring", "slug": "spring", "body": "", "is_published": "on"}

    client.post(f"/capture/forms/{form.pk}/page", base | {"image_url": "https://cdn.example.com/team.jpg",
                                                         "image_alt": "Our team  at the\nspring fair"})
    described = client.get("/p/spring").content.decode()
    client.post(f"/capture/forms/{form.pk}/page", base | {"image_url": "https://cdn.example.com/team.jpg", "image_alt": ""})
    decorative = client.get("/p/spring").content.decode()

    assert '<img class="lb-hero" src="https://cdn.example.com/team.jpg" alt="Our team at the spring fair">' in described
    assert '<img class="lb-hero" src="https://cdn.example.com/team.jpg" alt="">' in decorative
    assert 'value="Our team at the spring fair"' not in client.get(f"/capture/forms/{form.pk}/page").content.decode()


def test_the_forms_list_costs_the_same_queries_for_many_forms(
    personas, django_assert_max_num_queries
):
    client = logged_in(personas.owner)
    for i in range(8):
        form = do_create_form(personas.workspace, {**BASIC, "name": f"Form {i}"}, actor=None)
        Submission.objects.create(
            workspace=personas.workspace,
            form=form,
            received_at=form.created_at,
            status="spam",
            spam_reason="honeypot",
        )

    with django_assert_max_num_queries(6):
        response = client.get("/capture/forms/")

    assert len(response.context["forms"]) == 8


def test_the_journal_pages_through_rows_with_a_constant_number_of_queries(
    personas, form, django_assert_max_num_queries
):
    client = logged_in(personas.owner)
    Submission.objects.bulk_create(
        [
            Submission(
                workspace=personas.workspace,
                form=form,
                received_at=form.created_at,
                status="processed",
                payload={"name": f"Person {i}"},
            )
            for i in range(60)
        ]
    )

    # session, user, membership, form, rows, counts per status, refused posts, the workspaces menu
    with django_assert_max_num_queries(8):
        first = client.get(f"/capture/forms/{form.pk}/submissions")
    second = client.get(
        f"/capture/forms/{form.pk}/submissions?before={first.context['next_before']}"
    )

    assert len(first.context["rows"]) == 50 and len(second.context["rows"]) == 10
    assert second.context["next_before"] is None


def test_an_htmx_filter_of_the_journal_gets_only_the_table(personas, form):
    client = logged_in(personas.owner)

    response = client.get(
        f"/capture/forms/{form.pk}/submissions?status=failed", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert "No submissions with this status yet." in response.content.decode()


class _BrowserForm(HTMLParser):
    """What a browser posts for the builder's <form method="post">: every named input with its
    value (checkboxes when checked), each textarea's text, and each select's selected option,
    or its first one when none is selected."""

    def __init__(self) -> None:
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self._inside = False
        self._textarea: list[str] | None = None
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method") == "post" and "action" not in a:
            self._inside = True
        if not self._inside or (tag not in ("option",) and "name" not in a):
            return
        if tag == "input" and (a.get("type") not in ("checkbox", "radio") or "checked" in a):
            self.data.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea":
            self.data.append((a["name"], ""))
            self._textarea = []
        elif tag == "select":
            self._select = {"name": a["name"], "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            self._option = a.get("value")
            self._option_selected = "selected" in a
            self._option_text: list[str] = []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.append(data)
        elif self._select is not None and hasattr(self, "_option_text"):
            self._option_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, _ = self.data.pop()
            self.data.append((name, "".join(self._textarea).removeprefix("\n")))
            self._textarea = None
        elif tag == "option" and self._select is not None:
            value = self._option if self._option is not None else "".join(self._option_text)
            if self._select["first"] is None:
                self._select["first"] = value
            if self._option_selected:
                self._select["selected"] = value
        elif tag == "select" and self._select is not None:
            chosen = self._select["selected"]
            self.data.append((self._select["name"], self._select["first"] if chosen is None else chosen))
            self._select = None


def as_a_browser_posts(page: str) -> dict[str, list[str]]:
    parser = _BrowserForm()
    parser.feed(page)
    posted: dict[str, list[str]] = {}
    for name, value in parser.data:
        posted.setdefault(name, []).append(value)
    return posted


def test_a_new_form_saves_as_a_browser_posts_it_with_the_empty_rows_left_alone(personas):
    client = logged_in(personas.marketer)
    posted = as_a_browser_posts(client.get("/capture/forms/new").content.decode())
    posted["name"] = ["Spring webinar"]

    response = client.post("/capture/forms/new", posted)

    form = Form.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/capture/forms/{form.pk}/"
    assert [f["key"] for f in form.fields] == ["name", "email", "phone"]
    assert [c["purpose"] for c in form.consents] == ["email_marketing"]


def test_saving_a_form_untouched_in_the_browser_keeps_its_definition(personas, form):
    client = logged_in(personas.owner)
    before = (form.fields, form.consents, form.hidden_fields, form.allowed_origins, form.tags)
    posted = as_a_browser_posts(client.get(f"/capture/forms/{form.pk}/").content.decode())

    response = client.post(f"/capture/forms/{form.pk}/", posted)

    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.fields, form.consents, form.hidden_fields, form.allowed_origins, form.tags) == before


def test_fields_move_by_their_positions_and_a_new_one_without_one_goes_last(personas, form):
    client = logged_in(personas.owner)
    page = client.get(f"/capture/forms/{form.pk}/").content.decode()
    assert '<th scope="col">Position</th>' in page and "Position, field 1" in page
    posted = as_a_browser_posts(page)
    assert [posted[f"fields-{i}-ORDER"] for i in range(3)] == [["1"], ["2"], ["3"]]
    posted |= {"fields-2-ORDER": ["1"], "fields-1-ORDER": ["3"], "fields-0-ORDER": ["4"]}
    posted |= {"fields-3-key": ["company"], "fields-3-label": ["Company"], "fields-3-ORDER": ["2"]}
    posted |= {"fields-4-key": ["notes"], "fields-4-label": ["Notes"]}  # no position: last

    assert client.post(f"/capture/forms/{form.pk}/", posted).status_code == 302

    form.refresh_from_db()
    assert [f["key"] for f in form.fields] == ["phone", "company", "email", "name", "notes"]


def test_every_input_of_the_fields_table_has_a_label_and_its_error_is_tied_to_it(personas):
    client = logged_in(personas.owner)
    posted = as_a_browser_posts(client.get("/capture/forms/new").content.decode())
    posted |= {"name": ["Broken"], "fields-1-key": [""], "fields-1-label": ["Email"]}

    page = client.post("/capture/forms/new", posted).content.decode()

    for name in ("key", "label", "type", "required", "options", "DELETE"):
        assert f'for="id_fields-1-{name}"' in page
    assert 'id="id_fields-0-options_helptext"' in page  # what its aria-describedby points at
    assert 'aria-describedby="id_fields-1-key_error"' in page
    assert '<p class="field-error" id="id_fields-1-key_error">This field is required.</p>' in page

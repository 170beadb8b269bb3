"""The leads list, the lead page, possible duplicates and the export, as people use them."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leadbase.leads.actions import do_change_stage
from leadbase.leads.models import (
    Consent,
    DuplicateStatus,
    Lead,
    PossibleDuplicate,
    Stage,
    Touch,
    TouchKind,
)
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def pair(a: Lead, b: Lead) -> PossibleDuplicate:
    low, high = sorted((a, b), key=lambda lead: lead.pk)
    return PossibleDuplicate.objects.create(
        workspace=a.workspace, lead_a=low, lead_b=high, reason="similar_name_company"
    )


class TestLeadsList:
    def test_the_list_shows_the_workspaces_leads_with_navigation(self, personas, client_as):
        make_lead(personas.workspace, name="Grace Hopper")
        make_lead(personas.other_workspace, name="Alan Turing")
        response = client_as("marketer").get(reverse("web:leads"))
        body = response.content.decode()
        assert "Grace Hopper" in body and "Alan Turing" not in body
        assert '<html lang="en">' in body and "htmx" in body
        assert 'href="/leads/"' in body and "Sales queue" in body and "Download CSV" in body

    def test_an_htmx_request_gets_only_the_table(self, personas, client_as):
        make_lead(personas.workspace, name="Grace Hopper")
        response = client_as("owner").get(reverse("web:leads"), {"q": "grace"}, **HTMX)
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="lead-table"')
        assert "Grace Hopper" in body and "<html" not in body and '<nav class="nav"' not in body
        assert "HX-Request" in response["Vary"]

    def test_htmx_history_restore_gets_the_whole_page(self, personas, client_as):
        response = client_as("owner").get(
            reverse("web:leads"), **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true"
        )
        assert "<html" in response.content.decode()

    def test_the_search_box_and_filters_swap_the_table_and_push_the_url(self, personas, client_as):
        body = client_as("owner").get(reverse("web:leads")).content.decode()
        assert (
            'hx-get="/leads/"' in body
            and 'hx-target="#lead-table"' in body
            and 'hx-push-url="true"' in body
        )
        assert (
            'name="q"' in body
            and 'name="stage"' in body
            and 'name="source"' in body
            and 'name="owner"' in body
        )

    def test_the_list_makes_the_same_number_of_queries_for_5_and_50_leads(
        self, personas, client_as
    ):
        client = client_as("marketer")

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse("web:leads")).status_code == 200
            return len(ctx.captured_queries)

        for _ in range(5):
            make_lead(personas.workspace, owner=personas.sales)
        five = count()
        for _ in range(45):
            make_lead(personas.workspace, owner=personas.sales)
        assert count() == five
        assert five <= 8

    def test_the_next_link_walks_every_lead_once(self, personas, client_as):
        made = {make_lead(personas.workspace).name for _ in range(53)}
        client = client_as("owner")
        seen: list[str] = []
        url = reverse("web:leads")
        while url:
            response = client.get(url)
            seen += [lead.name for lead in response.context["leads"]]
            url = response.context["next_href"]
        assert len(seen) == 53 and set(seen) == made
        assert "of many" not in response.content.decode()

    def test_a_page_with_more_leads_says_of_many_and_never_counts_them(self, personas, client_as):
        for _ in range(51):
            make_lead(personas.workspace)
        client = client_as("owner")
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(reverse("web:leads")).content.decode()
        assert "50 leads on this page of many" in body and "Next →" in body
        assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)

    def test_a_tampered_cursor_shows_the_first_page(self, personas, client_as):
        make_lead(personas.workspace, name="Grace Hopper")
        response = client_as("owner").get(reverse("web:leads"), {"after": "garbage"})
        assert response.status_code == 200 and "Grace Hopper" in response.content.decode()

    def test_search_by_name_email_and_phone_from_the_page(self, personas, client_as):
        make_lead(
            personas.workspace, name="Jürgen Müller", email="jm@example.de", phone="+49 30 901820"
        )
        make_lead(personas.workspace, name="Grace Hopper", email="grace@navy.example")
        client = client_as("owner")
        for q in ("mull", "JURGEN", "jm@ex", "+49 30 90"):
            names = [
                lead.name for lead in client.get(reverse("web:leads"), {"q": q}).context["leads"]
            ]
            assert names == ["Jürgen Müller"], q

    def test_filters_narrow_the_list(self, personas, client_as):
        won = make_lead(personas.workspace, name="Grace Hopper", owner=personas.sales)
        do_change_stage(won, Stage.WON, actor=None)
        make_lead(personas.workspace, name="Alan Turing")
        client = client_as("owner")

        def names(**q: str) -> list[str]:
            return [lead.name for lead in client.get(reverse("web:leads"), q).context["leads"]]

        assert names(stage="won") == ["Grace Hopper"]
        assert names(owner=str(personas.sales.pk)) == ["Grace Hopper"]
        assert names(owner="none") == ["Alan Turing"]
        assert names(source="form") == []
        assert names(stage="no-such-stage") == ["Alan Turing", "Grace Hopper"]

    def test_a_sales_rep_sees_only_their_own_leads_and_no_owner_filter(self, personas, client_as):
        make_lead(personas.workspace, name="Grace Hopper", owner=personas.sales)
        make_lead(personas.workspace, name="Alan Turing", owner=personas.marketer)
        response = client_as("sales").get(reverse("web:leads"))
        assert [lead.name for lead in response.context["leads"]] == ["Grace Hopper"]
        body = response.content.decode()
        assert 'name="owner"' not in body and "Download CSV" not in body


class TestEscaping:
    NAME = '<script>alert("x")</script> Hopper'

    def test_markup_in_lead_fields_is_shown_as_text(self, personas, client_as):
        lead = Lead.objects.get(pk=make_lead(personas.workspace, name="Grace Hopper").pk)
        # Stored as text, whatever got past cleaning: the pages must still never render it as HTML.
        Lead.objects.filter(pk=lead.pk).update(
            name=self.NAME,
            company="<b>Navy</b>",
            custom={"notes": "<img src=x onerror=alert(1)>"},
            problems={"phone": "<i>bad</i>"},
        )
        client = client_as("owner")
        for url in (reverse("web:leads"), reverse("web:lead", kwargs={"pk": lead.pk})):
            body = client.get(url).content.decode()
            assert (
                "<script>alert" not in body and "<img src=x" not in body and "<b>Navy" not in body
            )
            assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body

    def test_a_search_with_markup_is_echoed_as_text(self, personas, client_as):
        body = (
            client_as("owner")
            .get(reverse("web:leads"), {"q": '"><script>x</script>'})
            .content.decode()
        )
        assert "<script>x</script>" not in body

    def test_pages_forbid_framing(self, personas, client_as):
        assert client_as("owner").get(reverse("web:leads"))["X-Frame-Options"] == "DENY"


class TestLeadPage:
    def test_it_shows_fields_problems_alternates_source_consents_and_timeline(
        self, personas, client_as
    ):
        lead = make_lead(
            personas.workspace,
            name="Grace Hopper",
            email="not-an-email",
            phone="+1 415 555 2671",
            company="Navy",
            job_title="Rear Admiral",
            utm_source="newsletter",
            utm_campaign="spring",
        )
        Lead.objects.filter(pk=lead.pk).update(
            alternates={"company": ["US Navy"]},
            last_touch={"utm_source": "linkedin", "at": "2025-01-02"},
        )
        Consent.objects.create(
            lead=lead,
            purpose="email_marketing",
            status="granted",
            at=lead.created_at,
            method="form",
            text="Yes, send me news.",
            ip="192.0.2.1",
        )
        do_change_stage(lead, Stage.NURTURING, actor=personas.marketer)
        body = client_as("owner").get(reverse("web:lead", kwargs={"pk": lead.pk})).content.decode()
        for text in (
            "Grace Hopper",
            "+14155552671",
            "not-an-email",
            "Kept for correction",
            "US Navy",
            "Rear Admiral",
            "newsletter",
            "spring",
            "linkedin",
            "Email marketing",
            "Yes, send me news.",
            "192.0.2.1",
            "Stage changed",
            "Marketer",
            "New → Nurturing",
            "Created",
        ):
            assert text in body, text

    def test_a_merge_that_filled_a_phone_says_phone_once(self, personas, client_as):
        lead = make_lead(personas.workspace, name="Ada Lovelace")
        Touch.objects.create(
            workspace=lead.workspace,
            lead=lead,
            kind=TouchKind.MERGED,
            at=lead.created_at,
            data={"import": 1, "row": 2, "filled": ["phone", "phone_e164", "phone_ext"]},
        )
        body = client_as("owner").get(reverse("web:lead", kwargs={"pk": lead.pk})).content.decode()
        assert "<li>Filled in: phone</li>" in body

    def test_the_last_touch_shows_only_the_fields_it_has(self, personas, client_as):
        lead = make_lead(personas.workspace, name="Grace Hopper")
        Lead.objects.filter(pk=lead.pk).update(
            last_touch={"source": "form", "utm_source": "instagram", "referrer": "", "page": ""}
        )
        body = client_as("owner").get(reverse("web:lead", kwargs={"pk": lead.pk})).content.decode()
        last_touch = body[body.index("Last touch") : body.index('id="consents"')]
        assert "instagram" in last_touch
        assert "Referrer" not in last_touch and "Page" not in last_touch

    def test_it_lists_possible_duplicates_with_merge_and_dismiss_buttons(self, personas, client_as):
        a = make_lead(personas.workspace, name="Grace Hopper", company="Navy")
        b = make_lead(personas.workspace, name="Grace B. Hopper", company="Navy")
        p = pair(a, b)
        body = client_as("marketer").get(reverse("web:lead", kwargs={"pk": b.pk})).content.decode()
        assert "Possible duplicates" in body and "Grace Hopper" in body
        assert f'action="{reverse("web:duplicate_merge", kwargs={"pk": p.pk})}"' in body
        assert f'name="keep" value="{b.pk}"' in body
        assert (
            "Merge into this lead" in body
            and "Not the same person" in body
            and "csrfmiddlewaretoken" in body
        )

    def test_a_viewer_sees_duplicates_without_buttons(self, personas, client_as):
        a, b = make_lead(personas.workspace), make_lead(personas.workspace)
        pair(a, b)
        body = client_as("viewer").get(reverse("web:lead", kwargs={"pk": a.pk})).content.decode()
        assert "Possible duplicates" in body and "Merge into this lead" not in body

    def test_a_sales_rep_is_not_shown_a_duplicate_that_is_someone_elses_lead(
        self, personas, client_as
    ):
        mine = make_lead(
            personas.workspace, name="Grace Hopper", company="Navy", owner=personas.sales
        )
        theirs = make_lead(
            personas.workspace, name="Grace B. Hopper", email="ghopper@navy.example", company="Navy"
        )
        pair(mine, theirs)
        body = client_as("sales").get(reverse("web:lead", kwargs={"pk": mine.pk})).content.decode()
        assert "Grace Hopper" in body
        assert "Possible duplicates" not in body and "ghopper@navy.example" not in body


class TestMergeAndDismiss:
    def test_merge_into_this_lead_keeps_it_and_removes_the_other(self, personas, client_as):
        keep = make_lead(personas.workspace, name="Grace Hopper", company="Navy")
        other = make_lead(
            personas.workspace, name="Grace B. Hopper", company="Navy", phone="+1 415 555 2671"
        )
        p = pair(keep, other)
        response = client_as("marketer").post(
            reverse("web:duplicate_merge", kwargs={"pk": p.pk}), {"keep": keep.pk}
        )
        assert response.status_code == 302 and response.url == reverse(
            "web:lead", kwargs={"pk": keep.pk}
        )
        assert not Lead.objects.filter(pk=other.pk).exists()
        keep.refresh_from_db()
        assert keep.phone_e164 == "+14155552671"
        merged = Touch.objects.get(lead=keep, kind=TouchKind.MERGED)
        assert merged.actor == personas.marketer
        assert not PossibleDuplicate.objects.filter(pk=p.pk).exists()

    def test_merge_needs_one_of_the_two_leads_to_keep(self, personas, client_as):
        a, b, c = (make_lead(personas.workspace) for _ in range(3))
        p = pair(a, b)
        client = client_as("owner")
        assert (
            client.post(
                reverse("web:duplicate_merge", kwargs={"pk": p.pk}), {"keep": c.pk}
            ).status_code
            == 400
        )
        assert (
            client.post(reverse("web:duplicate_merge", kwargs={"pk": p.pk}), {}).status_code == 400
        )
        assert Lead.objects.filter(pk__in=[a.pk, b.pk, c.pk]).count() == 3

    def test_not_the_same_person_dismisses_the_pair_and_returns_to_the_page(
        self, personas, client_as
    ):
        a, b = make_lead(personas.workspace), make_lead(personas.workspace)
        p = pair(a, b)
        url = reverse("web:duplicate_dismiss", kwargs={"pk": p.pk})
        back = reverse("web:lead", kwargs={"pk": a.pk})
        response = client_as("owner").post(url, {"next": back})
        assert response.status_code == 302 and response.url == back
        p.refresh_from_db()
        assert p.status == DuplicateStatus.DISMISSED
        assert (
            Touch.objects.filter(kind=TouchKind.DUPLICATE_DISMISSED, actor=personas.owner).count()
            == 2
        )
        assert (
            client_as("owner").post(url).status_code == 404
        )  # reviewed pairs are gone from the queue

    def test_dismiss_never_redirects_off_site(self, personas, client_as):
        p = pair(make_lead(personas.workspace), make_lead(personas.workspace))
        response = client_as("owner").post(
            reverse("web:duplicate_dismiss", kwargs={"pk": p.pk}), {"next": "https://evil.example/"}
        )
        assert response.url == reverse("web:duplicates")

    def test_a_sales_rep_may_merge_two_of_their_own_leads(self, personas, client_as):
        a = make_lead(personas.workspace, owner=personas.sales)
        b = make_lead(personas.workspace, owner=personas.sales)
        p = pair(a, b)
        response = client_as("sales").post(
            reverse("web:duplicate_merge", kwargs={"pk": p.pk}), {"keep": a.pk}
        )
        assert response.status_code == 302 and not Lead.objects.filter(pk=b.pk).exists()

    def test_actions_refuse_a_post_without_the_csrf_token(self, personas):
        p = pair(make_lead(personas.workspace), make_lead(personas.workspace))
        client = Client(enforce_csrf_checks=True)
        client.force_login(personas.owner)
        response = client.post(reverse("web:duplicate_dismiss", kwargs={"pk": p.pk}))
        assert response.status_code == 403
        p.refresh_from_db()
        assert p.status == DuplicateStatus.OPEN

    def test_the_review_list_shows_open_pairs_with_both_choices(self, personas, client_as):
        a = make_lead(personas.workspace, name="Grace Hopper")
        b = make_lead(personas.workspace, name="Grace B. Hopper")
        p = pair(a, b)
        dismissed = pair(
            make_lead(personas.workspace, name="Alan Turing"),
            make_lead(personas.workspace, name="Alan Turning"),
        )
        PossibleDuplicate.objects.filter(pk=dismissed.pk).update(status=DuplicateStatus.DISMISSED)
        body = client_as("owner").get(reverse("web:duplicates")).content.decode()
        assert "Grace B. Hopper" in body and "Alan Turing" not in body
        assert body.count(f'action="{reverse("web:duplicate_merge", kwargs={"pk": p.pk})}"') == 2


class TestExport:
    def test_the_export_streams_the_workspaces_leads_as_csv(self, personas, client_as):
        make_lead(personas.workspace, name="Grace Hopper", email="grace@navy.example")
        make_lead(personas.other_workspace, name="Alan Turing")
        response = client_as("marketer").get(reverse("web:leads_export"))
        assert response.status_code == 200 and response.streaming
        assert response["Content-Type"].startswith("text/csv")
        assert 'attachment; filename="leads-acme-' in response["Content-Disposition"]
        text = b"".join(response.streaming_content).decode()
        assert text.startswith("id,name,email,phone")
        assert "Grace Hopper" in text and "Alan Turing" not in text

    def test_the_export_can_be_jsonl(self, personas, client_as):
        make_lead(personas.workspace, name="Grace Hopper")
        response = client_as("owner").get(reverse("web:leads_export"), {"format": "jsonl"})
        lines = b"".join(response.streaming_content).decode().splitlines()
        assert [json.loads(line)["name"] for line in lines] == ["Grace Hopper"]


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_duplicates_list_makes_the_same_number_of_queries_for_2_and_12_pairs(
    personas, client_as
):
    client = client_as("owner")
    for _ in range(2):
        pair(make_lead(personas.workspace, owner=personas.sales), make_lead(personas.workspace))
    few = count_queries(client, reverse("web:duplicates"))
    for _ in range(10):
        pair(make_lead(personas.workspace, owner=personas.sales), make_lead(personas.workspace))
    assert count_queries(client, reverse("web:duplicates")) == few


def test_the_lead_page_makes_the_same_number_of_queries_for_a_short_and_a_long_history(
    personas, client_as
):
    lead = make_lead(personas.workspace)
    pair(lead, make_lead(personas.workspace))
    client = client_as("owner")
    url = reverse("web:lead", kwargs={"pk": lead.pk})
    short = count_queries(client, url)
    for stage in (Stage.NURTURING, Stage.SALES_READY, Stage.ACCEPTED, Stage.WON):
        do_change_stage(lead, stage, actor=personas.marketer)
    pair(lead, make_lead(personas.workspace))
    assert count_queries(client, url) == short

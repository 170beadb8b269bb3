"""Access-checked lead reads: scoping by workspace and role, search, keyset pages, duplicates."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from leadbase.accounts.models import Membership
from leadbase.leads.models import DuplicateStatus, Lead, PossibleDuplicate, Stage
from leadbase.leads.queries import (
    BadCursor,
    decode_cursor,
    encode_cursor,
    get_duplicate_for_user,
    get_lead_for_user,
    home_counts,
    leads_for_user,
    phone_prefixes,
    possible_duplicates_for_lead,
    search_kind,
    timeline_for_lead,
)
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def member(personas, name: str) -> Membership:
    user = getattr(personas, name)
    return Membership.objects.select_related("workspace").get(user=user)


def names(rows: list[Lead]) -> list[str]:
    return [lead.name for lead in rows]


def every_page(membership: Membership, **kwargs) -> list[int]:
    ids: list[int] = []
    after = None
    while True:
        rows, after = leads_for_user(membership, after=after, **kwargs)
        ids.extend(lead.pk for lead in rows)
        if after is None:
            return ids


def pair(a: Lead, b: Lead, reason: str = "similar_name_company") -> PossibleDuplicate:
    low, high = sorted((a, b), key=lambda lead: lead.pk)
    return PossibleDuplicate.objects.create(
        workspace=a.workspace, lead_a=low, lead_b=high, reason=reason
    )


class TestScope:
    def test_it_lists_only_the_members_workspace(self, personas):
        mine = make_lead(personas.workspace)
        make_lead(personas.other_workspace)
        rows, _ = leads_for_user(member(personas, "owner"))
        assert [lead.pk for lead in rows] == [mine.pk]

    def test_a_sales_member_sees_only_the_leads_they_own(self, personas):
        own = make_lead(personas.workspace, owner=personas.sales)
        make_lead(personas.workspace, owner=personas.marketer)
        make_lead(personas.workspace)
        rows, _ = leads_for_user(member(personas, "sales"))
        assert [lead.pk for lead in rows] == [own.pk]

    def test_a_sales_member_cannot_widen_the_scope_with_the_owner_filter(self, personas):
        make_lead(personas.workspace, owner=personas.marketer)
        rows, _ = leads_for_user(member(personas, "sales"), owner=personas.marketer.pk)
        assert rows == []

    def test_get_lead_is_a_404_for_another_workspaces_lead(self, personas):
        theirs = make_lead(personas.other_workspace)
        with pytest.raises(Http404):
            get_lead_for_user(member(personas, "owner"), theirs.pk)

    def test_get_lead_is_a_404_for_a_sales_member_who_does_not_own_it(self, personas):
        lead = make_lead(personas.workspace, owner=personas.marketer)
        with pytest.raises(Http404):
            get_lead_for_user(member(personas, "sales"), lead.pk)
        own = make_lead(personas.workspace, owner=personas.sales)
        assert get_lead_for_user(member(personas, "sales"), own.pk, write=True) == own

    def test_a_viewer_can_read_a_lead_but_not_write_it(self, personas):
        lead = make_lead(personas.workspace)
        assert get_lead_for_user(member(personas, "viewer"), lead.pk) == lead
        with pytest.raises(PermissionDenied):
            get_lead_for_user(member(personas, "viewer"), lead.pk, write=True)


class TestFilters:
    def test_filters_by_stage_source_and_owner_combine(self, personas):
        a = make_lead(personas.workspace, owner=personas.marketer)
        b = make_lead(personas.workspace, owner=personas.marketer)
        make_lead(personas.workspace)
        Lead.objects.filter(pk=b.pk).update(stage=Stage.WON)
        owner = member(personas, "owner")
        assert names(leads_for_user(owner, stage="won")[0]) == [b.name]
        assert {x.pk for x in leads_for_user(owner, owner=personas.marketer.pk)[0]} == {a.pk, b.pk}
        assert names(leads_for_user(owner, owner=personas.marketer.pk, stage="new")[0]) == [a.name]
        assert len(leads_for_user(owner, owner="none")[0]) == 1
        assert leads_for_user(owner, source="form")[0] == []
        assert len(leads_for_user(owner, source="manual")[0]) == 3


class TestKeysetPages:
    @pytest.mark.parametrize("sort", ["newest", "oldest", "name", "score"])
    def test_every_lead_appears_exactly_once_across_pages(self, personas, sort):
        leads = [make_lead(personas.workspace) for _ in range(23)]
        for i, lead in enumerate(leads):  # ties in score and name exercise the id tiebreak
            Lead.objects.filter(pk=lead.pk).update(score=i % 3)
        ids = every_page(member(personas, "owner"), sort=sort, limit=5)
        assert sorted(ids) == sorted(lead.pk for lead in leads)
        assert len(ids) == len(set(ids))

    def test_pages_come_in_the_chosen_order(self, personas):
        for name in ["Zoe Adams", "Ada Brown", "Émile Clark", "Bea Davis"]:
            make_lead(personas.workspace, name=name)
        owner = member(personas, "owner")
        by_name = []
        after = None
        while True:
            rows, after = leads_for_user(owner, sort="name", after=after, limit=2)
            by_name += names(rows)
            if after is None:
                break
        assert by_name == ["Ada Brown", "Bea Davis", "Émile Clark", "Zoe Adams"]
        newest, _ = leads_for_user(owner, sort="newest")
        assert names(newest) == ["Bea Davis", "Émile Clark", "Ada Brown", "Zoe Adams"]

    def test_a_full_page_without_more_rows_has_no_next_cursor(self, personas):
        for _ in range(5):
            make_lead(personas.workspace)
        rows, cursor = leads_for_user(member(personas, "owner"), limit=5)
        assert len(rows) == 5 and cursor is None

    def test_a_search_pages_through_every_match_once(self, personas):
        matches = [make_lead(personas.workspace, name=f"Hopper {i}") for i in range(7)]
        matches += [make_lead(personas.workspace, name=f"Grace Hopper{i}") for i in range(6)]
        make_lead(personas.workspace, name="Alan Turing")
        ids = every_page(member(personas, "owner"), q="hopper", limit=4)
        assert sorted(ids) == sorted(lead.pk for lead in matches)

    def test_a_cursor_that_was_tampered_with_is_refused(self, personas):
        with pytest.raises(BadCursor):
            leads_for_user(member(personas, "owner"), after="not-a-cursor!")
        with pytest.raises(BadCursor):
            leads_for_user(member(personas, "owner"), sort="name", after=encode_cursor(["x"]))

    def test_cursors_round_trip_unicode(self):
        assert decode_cursor(encode_cursor(["émile zoë", 12])) == ["émile zoë", 12]


class TestSearch:
    def test_a_name_prefix_finds_the_lead(self, personas):
        make_lead(personas.workspace, name="Grace Hopper")
        make_lead(personas.workspace, name="Alan Turing")
        owner = member(personas, "owner")
        assert names(leads_for_user(owner, q="gra")[0]) == ["Grace Hopper"]
        assert names(leads_for_user(owner, q="Grace H")[0]) == ["Grace Hopper"]

    def test_a_family_name_prefix_finds_the_lead(self, personas):
        make_lead(personas.workspace, name="Grace Hopper")
        assert names(leads_for_user(member(personas, "owner"), q="hop")[0]) == ["Grace Hopper"]

    def test_search_ignores_case_and_accents(self, personas):
        make_lead(personas.workspace, name="Jürgen Müller")
        make_lead(personas.workspace, name="Étienne Dubois")
        owner = member(personas, "owner")
        assert names(leads_for_user(owner, q="MULLER")[0]) == ["Jürgen Müller"]
        assert names(leads_for_user(owner, q="jurgen")[0]) == ["Jürgen Müller"]
        assert names(leads_for_user(owner, q="etienne")[0]) == ["Étienne Dubois"]

    def test_a_lead_matching_name_and_family_name_is_listed_once(self, personas):
        make_lead(personas.workspace, name="Hopper Hopper")
        rows, _ = leads_for_user(member(personas, "owner"), q="hopper")
        assert names(rows) == ["Hopper Hopper"]

    def test_an_email_prefix_finds_the_lead_in_any_case(self, personas):
        make_lead(personas.workspace, name="Ada Lovelace", email="Ada.Lovelace@Example.org")
        make_lead(personas.workspace, name="Alan Turing", email="alan@example.org")
        owner = member(personas, "owner")
        assert names(leads_for_user(owner, q="ADA.LOVELACE@ex")[0]) == ["Ada Lovelace"]
        assert names(leads_for_user(owner, q="ada.lovelace@example.org")[0]) == ["Ada Lovelace"]
        assert leads_for_user(owner, q="lovelace@")[0] == []

    def test_a_phone_finds_the_lead_with_or_without_the_country_code(self, personas):
        make_lead(
            personas.workspace, name="Anna Schmidt", email="", phone="+49 30 901820", country="DE"
        )
        make_lead(personas.workspace, name="Mary Smith", email="", phone="+1 415 555 2671")
        owner = member(personas, "owner")
        assert names(leads_for_user(owner, q="+49 30 90")[0]) == ["Anna Schmidt"]
        assert names(leads_for_user(owner, q="0049 30 9018")[0]) == ["Anna Schmidt"]
        assert names(leads_for_user(owner, q="4930901820")[0]) == ["Anna Schmidt"]
        assert names(leads_for_user(owner, q="(415) 555-2671")[0]) == ["Mary Smith"]
        assert names(leads_for_user(owner, q="415 555")[0]) == ["Mary Smith"]

    def test_a_national_number_uses_the_workspace_region(self, personas):
        personas.workspace.default_region = "DE"
        personas.workspace.save()
        make_lead(personas.workspace, name="Anna Schmidt", email="", phone="030 901820")
        owner = member(personas, "owner")
        assert names(leads_for_user(owner, q="030 9018")[0]) == ["Anna Schmidt"]

    def test_search_kinds(self):
        assert search_kind("ada@") == "email"
        assert search_kind("+49 (30) 123") == "phone"
        assert search_kind("12") == "name"
        assert search_kind("Ada 2") == "name"

    def test_phone_prefixes_cover_international_and_national_forms(self):
        assert phone_prefixes("+49 30 12", "US") == ["+493012"]
        assert phone_prefixes("0049 30 12", "DE") == ["+493012"]
        assert phone_prefixes("030 12", "DE") == ["+493012"]
        assert sorted(phone_prefixes("4930 12", "DE")) == ["+493012", "+49493012"]

    def test_search_keeps_the_sales_scope(self, personas):
        make_lead(personas.workspace, name="Grace Hopper", owner=personas.marketer)
        mine = make_lead(personas.workspace, name="Grace Kelly", owner=personas.sales)
        rows, _ = leads_for_user(member(personas, "sales"), q="grace")
        assert [lead.pk for lead in rows] == [mine.pk]

    def test_markup_and_wildcards_in_a_search_are_plain_text(self, personas):
        make_lead(personas.workspace, name="Grace Hopper")
        owner = member(personas, "owner")
        assert leads_for_user(owner, q="%")[0] == []
        assert leads_for_user(owner, q="_race")[0] == []
        assert leads_for_user(owner, q="<script>")[0] == []


class TestDuplicatesAndTimeline:
    def test_possible_duplicates_are_found_from_either_side(self, personas):
        a = make_lead(personas.workspace, name="Grace Hopper", company="Navy")
        b = make_lead(personas.workspace, name="Grace M. Hopper", company="Navy")
        p = pair(a, b)
        owner = member(personas, "owner")
        [from_a] = possible_duplicates_for_lead(owner, a)
        [from_b] = possible_duplicates_for_lead(owner, b)
        assert (from_a.pair, from_a.other) == (p, b)
        assert (from_b.pair, from_b.other) == (p, a)

    def test_dismissed_pairs_are_not_listed(self, personas):
        a, b = make_lead(personas.workspace), make_lead(personas.workspace)
        PossibleDuplicate.objects.filter(pk=pair(a, b).pk).update(status=DuplicateStatus.DISMISSED)
        assert possible_duplicates_for_lead(member(personas, "owner"), a) == []

    def test_a_sales_member_sees_a_pair_on_their_lead_only_when_the_other_lead_is_theirs(
        self, personas
    ):
        a = make_lead(personas.workspace, name="Grace Hopper", company="Navy", owner=personas.sales)
        b = make_lead(
            personas.workspace, name="Grace M. Hopper", company="Navy", owner=personas.marketer
        )
        p = pair(a, b)
        sales = member(personas, "sales")
        assert possible_duplicates_for_lead(sales, a) == []
        Lead.objects.filter(pk=b.pk).update(owner=personas.sales)
        assert [d.pair for d in possible_duplicates_for_lead(sales, a)] == [p]

    def test_a_sales_member_reaches_a_pair_only_when_both_leads_are_theirs(self, personas):
        a = make_lead(personas.workspace, owner=personas.sales)
        b = make_lead(personas.workspace, owner=personas.marketer)
        p = pair(a, b)
        with pytest.raises(Http404):
            get_duplicate_for_user(member(personas, "sales"), p.pk)
        Lead.objects.filter(pk=b.pk).update(owner=personas.sales)
        assert get_duplicate_for_user(member(personas, "sales"), p.pk, write=True) == p

    def test_a_viewer_may_see_a_pair_but_not_act_on_it(self, personas):
        p = pair(make_lead(personas.workspace), make_lead(personas.workspace))
        with pytest.raises(PermissionDenied):
            get_duplicate_for_user(member(personas, "viewer"), p.pk, write=True)
        with pytest.raises(Http404):
            get_duplicate_for_user(member(personas, "outsider"), p.pk)

    def test_the_timeline_is_newest_first_with_its_actor(self, personas):
        from leadbase.leads.actions import do_change_stage

        lead = make_lead(personas.workspace)
        do_change_stage(lead, Stage.NURTURING, actor=personas.marketer)
        timeline = timeline_for_lead(lead)
        assert [t.kind for t in timeline] == ["stage_changed", "created"]
        assert timeline[0].actor == personas.marketer


class TestHomeCounts:
    def test_it_counts_per_stage_new_this_week_and_duplicates(self, personas):
        a = make_lead(personas.workspace)
        b = make_lead(personas.workspace)
        make_lead(personas.workspace)
        make_lead(personas.other_workspace)
        Lead.objects.filter(pk=a.pk).update(stage=Stage.WON)
        pair(a, b)
        counts = home_counts(member(personas, "owner"))
        assert counts["total"] == 3
        assert counts["new_this_week"] == 3
        assert counts["duplicates"] == 1
        assert dict((value, n) for value, _, n in counts["stages"]) == {
            "new": 2,
            "nurturing": 0,
            "sales_ready": 0,
            "accepted": 0,
            "won": 1,
            "lost": 0,
            "disqualified": 0,
        }

    def test_a_sales_member_counts_only_their_own_leads(self, personas):
        mine = make_lead(personas.workspace, owner=personas.sales)
        make_lead(personas.workspace, owner=personas.sales)
        Lead.objects.filter(pk=mine.pk).update(stage=Stage.WON)
        make_lead(personas.workspace)
        counts = home_counts(member(personas, "sales"))
        assert counts["total"] == 2
        assert {value: n for value, _, n in counts["stages"] if n} == {"new": 1, "won": 1}

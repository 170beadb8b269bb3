"""Erasing a person removes what the other apps keep about them: the form posts of the journal,
webhook deliveries, and stored answers of Idempotency-Key requests."""

from __future__ import annotations

import json

import pytest
from django.core import serializers

from leadbase.api.models import IdempotencyKey
from leadbase.capture.actions import SubmitMeta, do_create_form, do_submit_form
from leadbase.capture.models import Submission
from leadbase.hooks.actions import do_create_endpoint
from leadbase.hooks.models import Delivery
from leadbase.leads.actions import do_erase_lead, do_merge_leads
from leadbase.leads.models import Lead
from leadbase.leads.signals import lead_erasing

pytestmark = pytest.mark.usefixtures("immediate_tasks")


@pytest.fixture
def world(personas, receiver, api_as):
    """Ada and Grace, each created through the API with a key and posted through a form, with
    an endpoint receiving every event."""
    do_create_endpoint(personas.workspace, receiver.url, [], actor=personas.owner)
    form = do_create_form(
        personas.workspace,
        {"name": "Contact", "fields": [{"key": "name"}, {"key": "email"}], "is_published": True},
        actor=None,
    )
    api = api_as("owner")
    for key, name, email in (("k-ada", "Ada Lovelace", "ada@example.org"), ("k-grace", "Grace Hopper", "grace@example.org")):
        assert api.post("/leads", {"name": name, "email": email}, **{"Idempotency-Key": key}).status_code == 201
        meta = SubmitMeta(ip="203.0.113.9", user_agent="Mozilla/5.0 Firefox", referer=f"https://mail.example/?to={email}")
        page = f"https://site.example/landing?email={email}&utm_source=instagram"
        result = do_submit_form(form, {"name": name, "email": email, "lb_page": page}, meta)
        assert result.outcome == "merged"
    return api


def _dump(model) -> str:
    return serializers.serialize("json", model.objects.all())


def test_erasing_a_person_leaves_nothing_of_them_in_the_journal_deliveries_or_stored_answers(world):
    ada = Lead.objects.get(email_key="ada@example.org")
    grace = Lead.objects.get(email_key="grace@example.org")
    graces_post = Submission.objects.get(lead=grace)
    assert Delivery.objects.filter(payload__data__lead__id=ada.pk).exists()

    do_erase_lead(ada, actor=None)

    for model in (Submission, Delivery, IdempotencyKey):
        text = _dump(model)
        assert "ada@example.org" not in text and "Lovelace" not in text, model.__name__
        assert "grace@example.org" in text, model.__name__  # the others' data is untouched
    post = Submission.objects.get(pk__lt=graces_post.pk, form=graces_post.form)
    assert (post.payload, post.ip, post.user_agent, post.referrer) == ({"erased": True}, None, "", "")
    assert post.page_url == "https://site.example/landing"  # its attribution stays for the reports
    assert post.utm == {"utm_source": "instagram"} and post.status == "processed" and post.lead_id is None
    assert Submission.objects.get(pk=graces_post.pk).payload["email"] == "grace@example.org"


def test_a_retried_create_of_an_erased_person_is_refused_not_answered_from_the_store(world):
    do_erase_lead(Lead.objects.get(email_key="ada@example.org"), actor=None)

    again = world.post("/leads", {"name": "Ada Lovelace", "email": "ada@example.org"}, **{"Idempotency-Key": "k-ada"})

    assert again.status_code == 422 and json.loads(again.content)["code"] == "suppressed"
    assert not Lead.objects.filter(name="Ada Lovelace").exists()


def test_an_app_that_cannot_forget_fails_the_whole_erasure(world):
    ada = Lead.objects.get(email_key="ada@example.org")
    kept = {model: _dump(model) for model in (Submission, Delivery, IdempotencyKey)}

    def broken(sender, **kwargs):  # connected last: every app's receiver has run before it
        raise RuntimeError("disk full")

    lead_erasing.connect(broken, dispatch_uid="test.broken")
    try:
        with pytest.raises(RuntimeError):
            do_erase_lead(ada, actor=None)
    finally:
        lead_erasing.disconnect(dispatch_uid="test.broken")

    assert Lead.objects.filter(pk=ada.pk).exists()
    assert {model: _dump(model) for model in kept} == kept


def test_a_merge_moves_the_posts_and_erasing_the_lead_kept_forgets_the_merged_one_too(world, personas):
    ada = Lead.objects.get(email_key="ada@example.org")
    grace = Lead.objects.get(email_key="grace@example.org")  # here: the same person, merged in
    graces_post = Submission.objects.get(lead=grace)

    do_merge_leads(ada, grace, actor=personas.owner)

    assert Submission.objects.get(pk=graces_post.pk).lead_id == ada.pk  # not left without a lead
    do_erase_lead(Lead.objects.get(pk=ada.pk), actor=None)

    for model in (Submission, Delivery, IdempotencyKey):
        text = _dump(model)
        for trace in ("ada@example.org", "Lovelace", "grace@example.org", "Hopper"):
            assert trace not in text, (model.__name__, trace)


def test_posts_a_merge_of_before_left_without_a_lead_are_found_through_the_timeline(world, personas):
    ada = Lead.objects.get(email_key="ada@example.org")
    grace = Lead.objects.get(email_key="grace@example.org")
    do_merge_leads(ada, grace, actor=personas.owner)
    Submission.objects.filter(payload__email="grace@example.org").update(lead=None)  # as merges did

    do_erase_lead(Lead.objects.get(pk=ada.pk), actor=None)

    assert "grace@example.org" not in _dump(Submission) and "Hopper" not in _dump(Submission)

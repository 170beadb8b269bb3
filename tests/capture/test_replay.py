"""When processing a form post fails: the raw row kept as failed, the answer "received", and
``leadbase replay`` (and its refusals of bad options)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from leadbase.capture.actions import submissions as actions  # where the patched names are looked up
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import Submission
from leadbase.leads.models import Consent, Lead, Touch
from tests.capture.test_submit import ADA, _fail_lead_work, assert_no_lead_written, post_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


def test_a_processing_failure_keeps_the_raw_row_failed_and_answers_received(
    client, form, monkeypatch
):
    _fail_lead_work(monkeypatch)

    response = post_json(client, {**ADA, "consent_email_marketing": True})

    assert response.status_code == 202
    assert response.json()["status"] == "received"
    row = Submission.objects.get()
    assert (row.status, row.error) == ("failed", "RuntimeError: disk on fire")
    assert row.payload["name"] == "Ada Lovelace"
    assert_no_lead_written()


def test_replay_processes_a_failed_row_and_prints_the_counts(client, form, monkeypatch, capsys):
    mend = _fail_lead_work(monkeypatch)
    post_json(client, {**ADA, "consent_email_marketing": True, "utm_source": "instagram"})
    mend()

    call_command("replay")

    assert (
        "Replayed 1 failed submission(s): 1 processed, 0 rejected, 0 still failed"
        in capsys.readouterr().out
    )
    row = Submission.objects.get()
    lead = Lead.objects.get()
    assert (row.status, row.lead_id, row.attempts, row.error) == ("processed", lead.pk, 2, "")
    assert lead.utm_source == "instagram"
    assert Consent.objects.get(lead=lead).status == "pending"
    call_command("replay")
    assert "Replayed 0 failed submission(s)" in capsys.readouterr().out


def test_replay_records_the_consent_text_the_visitor_was_shown_at_the_time_they_posted(
    client, form, monkeypatch
):
    shown = form.consents[0]["text"]
    mend = _fail_lead_work(monkeypatch)
    post_json(client, {**ADA, "consent_email_marketing": True})
    row = Submission.objects.get()
    assert row.consent_texts == {"email_marketing": shown}
    form.consents = [{**form.consents[0], "text": "A text written after the visitor posted."}]
    form.save()
    mend()

    call_command("replay")

    consent = Consent.objects.get()
    assert (consent.status, consent.text, consent.at) == ("pending", shown, row.received_at)
    touch = Touch.objects.get(kind="consent")
    assert touch.at == row.received_at
    assert Submission.objects.get().consent_texts == {"email_marketing": shown}


def test_a_replay_that_fails_again_keeps_the_consent_texts_of_the_first_failure(client, form, monkeypatch):
    _fail_lead_work(monkeypatch)
    post_json(client, {**ADA, "consent_email_marketing": True})
    shown = form.consents[0]["text"]
    form.consents = [{**form.consents[0], "text": "Edited since."}]
    form.save()

    call_command("replay")

    row = Submission.objects.get()
    assert (row.status, row.attempts, row.consent_texts) == ("failed", 2, {"email_marketing": shown})


def test_replay_takes_every_failed_row_in_order_chunk_by_chunk(client, form, monkeypatch, capsys):
    from leadbase.capture.management.commands import replay

    mend = _fail_lead_work(monkeypatch)
    for n, name in enumerate(("Berg", "Cole", "Dunn", "Eads", "Fenn")):  # five people
        post_json(client, {"name": f"Ada {name}", "email": f"ada{n}@example.org"})
    mend()
    monkeypatch.setattr(replay, "REPLAY_CHUNK", 2)  # three chunks
    replayed: list[int] = []
    original = replay.do_replay_submission
    monkeypatch.setattr(replay, "do_replay_submission", lambda row: replayed.append(row.pk) or original(row))

    call_command("replay")

    assert "Replayed 5 failed submission(s): 5 processed" in capsys.readouterr().out
    assert replayed == sorted(Submission.objects.values_list("id", flat=True))
    assert Lead.objects.count() == 5


def test_when_the_whole_transaction_fails_the_raw_row_is_still_kept(client, form, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(actions, "_make_leads", locked)  # the group's lead work
    monkeypatch.setattr(actions, "_process", locked)  # and the post's own, alone

    response = post_json(client, ADA)

    assert response.status_code == 202
    row = Submission.objects.get()
    assert (row.status, row.error) == ("failed", "OperationalError: database is locked")


def test_replay_marks_a_row_rejected_when_the_form_no_longer_accepts_it(client, form, monkeypatch):
    mend = _fail_lead_work(monkeypatch)
    post_json(client, {**ADA, "phone": "+44 20 7946 0018"})
    mend()
    form.fields = [f for f in form.fields if f["key"] != "phone"]
    form.save()

    call_command("replay")

    assert Submission.objects.get().status == "rejected"


def test_replay_refuses_a_negative_limit_with_a_message(client, form, monkeypatch):
    _fail_lead_work(monkeypatch)
    post_json(client, ADA)

    with pytest.raises(CommandError, match="--limit"):
        call_command("replay", limit=-1)

    assert Submission.objects.get().status == "failed"


@pytest.mark.parametrize("given", ["99999999999999999999", "0", "seven"])
def test_replay_refuses_an_id_no_submission_can_have_with_a_message(client, form, monkeypatch, given):
    _fail_lead_work(monkeypatch)
    post_json(client, ADA)

    with pytest.raises(CommandError, match="--id"):
        call_command("replay", "--id", given)  # a too large one overflowed the query: a traceback

    assert Submission.objects.get().status == "failed"


def test_replay_says_which_asked_ids_it_passed_over(client, form, monkeypatch):
    import io

    mend = _fail_lead_work(monkeypatch)
    post_json(client, ADA)
    mend()
    post_json(client, {**ADA, "email": "grace@example.org", "name": "Grace Hopper"})
    failed, processed = Submission.objects.order_by("id").values_list("id", flat=True)
    err = io.StringIO()

    with pytest.raises(CommandError, match="Not every --id names a submission"):  # exit status 1
        call_command("replay", "--id", str(failed), "--id", str(processed), "--id", "99999",
                     stderr=err, stdout=io.StringIO())

    assert Submission.objects.get(pk=failed).status == "processed"  # the others were replayed
    assert err.getvalue().splitlines() == [
        f"Submission #{processed} is processed, not failed: nothing to replay.",
        "There is no submission #99999.",
    ]
    call_command("replay", "--id", str(processed), stderr=io.StringIO(), stdout=io.StringIO())  # 0: nothing to do

"""Double opt-in: the confirmation email (in memory and through a real SMTP server), the signed
link, the confirm button, and consent pending → granted."""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.core import mail, signing
from django.core.management import call_command

from leadbase.capture import emails
from leadbase.capture.actions import do_create_form
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.errors import ConfirmLinkError
from leadbase.capture.tasks import send_confirmation_email, send_confirmation_emails_of
from leadbase.leads.actions import do_create_lead, do_record_consent
from leadbase.leads.models import Consent, Lead, Touch

ADA = {"name": "Ada Lovelace", "email": "ada@example.org", "consent_email_marketing": True}


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    # Set through the settings fixture: django_tasks keeps the backend it built at start-up
    # until it hears `setting_changed`.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "imports"]}}


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


def submit(client, body=ADA, slug="contact"):
    return client.post(
        f"/f/{slug}", json.dumps(body), content_type="application/json", REMOTE_ADDR="192.0.2.5"
    )


def link_path(text: str) -> str:
    url = re.search(r"https?://\S+/c/\S+", text).group(0)
    return url[url.index("/c/") :]


@pytest.mark.django_db
def test_submitting_sends_one_confirmation_email_with_a_working_link(
    client, form, personas, settings, django_capture_on_commit_callbacks
):
    settings.BASE_URL = "https://leads.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Ada Lovelace <ada@example.org>"]
    assert "confirm" in message.subject.lower()
    assert form.consents[0]["text"] in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Confirm my subscription" in html
    assert "https://leads.example.com/c/" in message.body

    page = client.get(link_path(message.body))
    assert page.status_code == 200
    assert "Yes, confirm" in page.content.decode()
    assert (
        Consent.objects.get().status == "pending"
    )  # opening the link (or a scanner) confirms nothing

    done = client.post(link_path(message.body), REMOTE_ADDR="192.0.2.77")
    assert done.status_code == 200 and "Confirmed" in done.content.decode()
    consent = Consent.objects.get()
    assert (consent.status, consent.method, consent.ip) == (
        "granted",
        "double_opt_in",
        "192.0.2.77",
    )
    assert consent.text == form.consents[0]["text"]  # the proof of what was agreed to stays
    # the timeline keeps both answers' proof: the request from the form, then the confirmation
    asked, confirmed = Touch.objects.filter(kind="consent").order_by("at", "id")
    assert (asked.data["status"], asked.data["ip"], asked.data["source_ref"]) == ("pending", "192.0.2.5", "contact")
    assert (confirmed.data["status"], confirmed.data["ip"]) == ("granted", "192.0.2.77")
    assert asked.at < confirmed.at
    client.force_login(personas.owner)
    timeline = client.get(f"/leads/{consent.lead_id}/").content.decode()
    assert "192.0.2.5" in timeline and "192.0.2.77" in timeline


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "greeting"),
    [("D'Arcy Smith", "D'Arcy"), ("Jörg", "Jörg"), ("x", "x")],
    ids=["quote", "accents", "one_letter"],
)
def test_the_confirmation_email_is_its_templates_rendered_for_the_person(form, personas, settings, name, greeting):
    """Each email fills in a rendering made once: the same as rendering the templates for it."""
    from django.template.loader import render_to_string

    settings.BASE_URL = "https://leads.example.com"
    lead = do_create_lead(personas.workspace, {"name": name, "email": "zoe@example.org"}, actor=personas.owner).lead
    assert (lead.given_name or lead.name) == greeting

    message = emails.confirmation_message(lead, form, ["email_marketing"]).build()

    url = re.search(r"https://\S+/c/\S+", message.body).group(0)
    assert emails.read_confirm_token(url.rsplit("/", 1)[1]).lead_id == lead.pk
    context = {"name": greeting, "url": url, "workspace_name": personas.workspace.name,
               "texts": [form.consents[0]["text"]], "hours": settings.CONFIRM_LINK_HOURS}
    assert message.body == render_to_string("capture/email/confirm.txt", context)
    assert message.alternatives[0][0] == render_to_string("capture/email/confirm.html", context)
    if "'" in greeting:  # escaped in the HTML only
        assert f"Hello {greeting}," in message.body
        assert "D&#x27;Arcy" in message.alternatives[0][0] and "D'Arcy" not in message.alternatives[0][0]
    assert f"works for {settings.CONFIRM_LINK_HOURS} hours." in message.body
    settings.CONFIRM_LINK_HOURS = 1  # a setting the templates show is read anew, in the singular
    one = emails.confirmation_message(lead, form, ["email_marketing"]).build()
    assert "works for 1 hour." in one.body and "works for 1 hour." in one.alternatives[0][0]


@pytest.mark.django_db
def test_the_confirmation_goes_to_the_address_typed_even_when_the_lead_keeps_another(
    client, form, personas, django_capture_on_commit_callbacks
):
    phone = "+44 20 7946 0018"
    known = do_create_lead(
        personas.workspace,
        {"name": "Ada Lovelace", "email": "old@example.org", "phone": phone},
        actor=personas.owner,
    ).lead
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, {**ADA, "email": "new@example.org", "phone": phone})

    lead = Lead.objects.get()  # the same person, by phone and name
    assert lead.pk == known.pk and lead.email_key == "old@example.org"
    assert [m.to for m in mail.outbox] == [["Ada Lovelace <new@example.org>"]]


@pytest.mark.django_db
def test_confirming_twice_changes_nothing_more(client, form, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)
    path = link_path(mail.outbox[0].body)

    client.post(path)
    again = client.post(path)

    assert again.status_code == 200
    assert Touch.objects.filter(kind="consent", data__status="granted").count() == 1


@pytest.mark.django_db
def test_the_link_opened_again_after_confirming_says_so_without_a_button(
    client, form, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)
    path = link_path(mail.outbox[0].body)
    first = client.get(path).content.decode()
    assert "Yes, confirm" in first and "Already confirmed" not in first

    client.post(path)
    again = client.get(path).content.decode()

    assert "Already confirmed" in again and "Yes, confirm" not in again
    assert "is confirmed already" in again


@pytest.mark.django_db
def test_the_confirm_page_shows_the_text_the_person_agreed_to_not_the_forms_text_of_today(
    client, form, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)
    agreed = form.consents[0]["text"]
    form.consents = [{**form.consents[0], "text": "Yes, call me and text me every day."}]
    form.save()

    page = client.get(link_path(mail.outbox[0].body)).content.decode()

    assert agreed in page and "every day" not in page


@pytest.mark.django_db
def test_a_link_sent_before_its_lead_was_merged_confirms_the_lead_kept(
    client, form, personas, django_capture_on_commit_callbacks
):
    from leadbase.leads.actions import do_merge_leads

    kept = do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "ada@work.example"}, actor=None).lead
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)  # ada@example.org: another lead, its consent pending, its email sent
    merged = Lead.objects.get(email_key="ada@example.org")
    do_merge_leads(kept, merged, actor=personas.owner)  # a marketer sees it is one person

    response = client.post(link_path(mail.outbox[0].body))

    assert response.status_code == 200 and "Confirmed" in response.content.decode()
    assert Consent.objects.get(lead=kept, purpose="email_marketing").status == "granted"


@pytest.mark.django_db
def test_a_link_clicked_after_unsubscribing_changes_nothing_and_says_so(
    client, form, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)
    lead = Lead.objects.get()
    do_record_consent(lead, "email_marketing", "withdrawn", method="unsubscribe")

    response = client.post(link_path(mail.outbox[0].body))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was confirmed" in page and "You unsubscribed after this link was sent" in page
    assert "is confirmed" not in page
    assert Consent.objects.get().status == "withdrawn"


@pytest.mark.django_db
def test_a_forged_or_expired_link_is_refused_with_a_readable_page(
    client, form, settings, monkeypatch
):
    submit(client)
    lead = Lead.objects.get()
    token = emails.confirm_token(lead.pk, form.pk, ["email_marketing"])
    now = time.time()
    with monkeypatch.context() as m:
        m.setattr(signing.time, "time", lambda: now - (settings.CONFIRM_LINK_HOURS * 3600 + 60))
        old_token = emails.confirm_token(lead.pk, form.pk, ["email_marketing"])

    forged = client.post(f"/c/{token[:-2]}xx")
    expired = client.post(f"/c/{old_token}")

    assert forged.status_code == 400 and "not valid" in forged.content.decode()
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert Consent.objects.get().status == "pending"


def expired_token(lead_id, form_id, settings, monkeypatch, purposes=("email_marketing",)):
    now = time.time()
    with monkeypatch.context() as m:
        m.setattr(signing.time, "time", lambda: now - (settings.CONFIRM_LINK_HOURS * 3600 + 60))
        return emails.confirm_token(lead_id, form_id, list(purposes))


@pytest.mark.django_db
def test_an_expired_link_still_pending_offers_a_new_one_that_works(
    client, form, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.BASE_URL = "https://leads.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)
    lead = Lead.objects.get()
    old = expired_token(lead.pk, form.pk, settings, monkeypatch)

    page = client.get(f"/c/{old}")
    assert page.status_code == 410
    assert "expired" in page.content.decode() and "Send me a new link" in page.content.decode()
    assert f'action="/c/{old}/new"' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/c/{old}/new")
    assert sent.status_code == 200 and "New link sent" in sent.content.decode()
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["Ada Lovelace <ada@example.org>"]
    new = link_path(mail.outbox[1].body)
    assert new != f"/c/{old}"
    assert Consent.objects.get().status == "pending"  # asking for a link confirms nothing

    assert client.post(new).status_code == 200
    assert Consent.objects.get().status == "granted"
    # The old link, opened once more, says there is nothing left to do.
    again = client.get(f"/c/{old}")
    assert again.status_code == 200 and "Already confirmed" in again.content.decode()


@pytest.mark.django_db
def test_a_new_link_is_sent_at_most_once_in_ten_minutes_per_lead(
    client, form, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from leadbase.capture.actions import do_send_new_link
    from leadbase.capture.actions.optin import NEW_LINK_EVERY

    with django_capture_on_commit_callbacks(execute=True):
        submit(client)
    lead = Lead.objects.get()
    old = expired_token(lead.pk, form.pk, settings, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/c/{old}/new").status_code == 200
        second = client.post(f"/c/{old}/new")

    assert second.status_code == 429 and 540 < int(second["Retry-After"]) <= 600
    assert "You can ask for another in 10 minutes" in second.content.decode()
    assert len(mail.outbox) == 2  # the form's email and one new link

    with pytest.raises(ConfirmLinkError) as expired:
        emails.read_confirm_token(old)
    later = timezone.now() + NEW_LINK_EVERY + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert do_send_new_link(expired.value.wanted, now=later) == ["email_marketing"]
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_an_expired_link_after_unsubscribing_offers_no_new_link_and_sends_none(
    client, form, settings, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)
    lead = Lead.objects.get()
    do_record_consent(lead, "email_marketing", "withdrawn", method="unsubscribe")
    old = expired_token(lead.pk, form.pk, settings, monkeypatch)

    page = client.get(f"/c/{old}")
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(f"/c/{old}/new")  # a button kept in an open tab

    assert page.status_code == 410 and "Send me a new link" not in page.content.decode()
    assert asked.status_code == 410 and "New link sent" not in asked.content.decode()
    assert len(mail.outbox) == 1
    assert Consent.objects.get().status == "withdrawn"


@pytest.mark.django_db
def test_the_new_link_route_refuses_a_forged_link_and_sends_a_working_one_to_its_page(client, form):
    submit(client)
    lead = Lead.objects.get()
    token = emails.confirm_token(lead.pk, form.pk, ["email_marketing"])

    forged = client.post(f"/c/{token[:-2]}xx/new")
    working = client.post(f"/c/{token}/new")
    fetched = client.get(f"/c/{token}/new")

    assert forged.status_code == 400 and "not valid" in forged.content.decode()
    assert working.status_code == 302 and working["Location"] == f"/c/{token}"
    assert fetched.status_code == 405
    assert len(mail.outbox) == 0  # the form's email is sent on commit, not in this test
    assert Consent.objects.get().status == "pending"


@pytest.mark.django_db
def test_a_new_link_for_an_erased_lead_says_the_link_is_gone(client, form, settings, monkeypatch):
    submit(client)
    lead = Lead.objects.get()
    old = expired_token(lead.pk, form.pk, settings, monkeypatch)
    lead.delete()

    page = client.get(f"/c/{old}")
    asked = client.post(f"/c/{old}/new")

    assert page.status_code == 410 and "Send me a new link" not in page.content.decode()
    assert asked.status_code == 410 and "no longer valid" in asked.content.decode()


@pytest.mark.django_db
def test_a_link_to_a_lead_that_was_erased_says_so(client, form):
    submit(client)
    lead = Lead.objects.get()
    token = emails.confirm_token(lead.pk, form.pk, ["email_marketing"])
    lead.delete()

    response = client.post(f"/c/{token}")

    assert response.status_code == 410 and "no longer valid" in response.content.decode()


@pytest.mark.django_db
def test_without_double_opt_in_consent_is_granted_at_once_and_no_email_is_sent(
    client, personas, django_capture_on_commit_callbacks
):
    do_create_form(
        personas.workspace,
        {
            "name": "Quick",
            "fields": [{"key": "name"}, {"key": "email"}],
            "double_opt_in": False,
            "consents": [{"purpose": "email_marketing", "text": "Email me."}],
        },
        actor=None,
    )

    with django_capture_on_commit_callbacks(execute=True):
        submit(client, slug="quick")

    assert Consent.objects.get().status == "granted"
    assert mail.outbox == []


@pytest.mark.django_db
def test_no_email_is_sent_when_no_consent_was_ticked(
    client, form, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, {**ADA, "consent_email_marketing": False})

    assert not Consent.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_email_task_does_not_ask_again_once_the_consent_was_answered(client, form):
    submit(client)
    lead = Lead.objects.get()
    Consent.objects.filter(lead=lead).update(status="granted")

    assert send_confirmation_email.call(lead.pk, form.pk, ["email_marketing"]) is False
    assert mail.outbox == []


# --- a real SMTP server and the real worker -------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[float, str, bytes]] = []
        self.connections: set[tuple] = set()  # the client ends of the SMTP connections used
        self.arrived = threading.Event()

    refuse = ""  # a recipient the server refuses
    pipelining = True  # offered, as Postfix and Exim do; False: a server that does not

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == self.refuse:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.connections.add(tuple(session.peer))
        self.messages.append((time.monotonic(), envelope.rcpt_tos[0], envelope.content))
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def smtp_inbox(settings):
    """An aiosmtpd server on a free port of 127.0.0.1, with Django's SMTP backend pointed at it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_the_confirmation_to_a_real_smtp_server_within_5_seconds(
    client, form, settings, smtp_inbox
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}
    settings.BASE_URL = "http://127.0.0.1:8000"

    started = time.monotonic()
    assert submit(client).status_code == 200  # commits: the email task is now in the database queue
    call_command("worker", batch=True, verbosity=0)

    assert smtp_inbox.arrived.wait(5)
    arrived_at, recipient, content = smtp_inbox.messages[0]
    assert recipient == "ada@example.org"
    assert arrived_at - started < 5
    text = content.decode()
    assert "multipart/alternative" in text and "text/html" in text
    assert "http://127.0.0.1:8000/c/" in text


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_confirmations_goes_out_in_one_worker_batch_over_one_smtp_connection(
    client, form, settings, smtp_inbox
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}
    people = [{**ADA, "name": f"Person {n}", "email": f"person{n}@example.org"} for n in range(1, 6)]
    for body in people:
        assert submit(client, body).status_code == 200
    answered = Lead.objects.get(email_key="person3@example.org")
    Consent.objects.filter(lead=answered).update(status="granted")  # confirmed meanwhile

    call_command("worker", batch=True, verbosity=0)

    got = sorted(recipient for _, recipient, _ in smtp_inbox.messages)
    assert got == ["person1@example.org", "person2@example.org", "person4@example.org", "person5@example.org"]
    assert len(smtp_inbox.connections) == 1
    from django_tasks_db.models import DBTaskResult

    # each post its own task, of the one function the worker runs together (runs_many)
    confirmations = DBTaskResult.objects.filter(task_path__contains="confirmation")
    assert set(confirmations.values_list("task_path", flat=True)) == {send_confirmation_emails_of.module_path}
    sent = sorted(result["sent"] for result in confirmations.values_list("return_value", flat=True))
    assert sent == [0, 1, 1, 1, 1]


def _group_of_posts(form, people):
    """``people`` posted to ``form`` together: taken as one group, as the web process takes posts
    that arrive at once (leadbase.capture.intake)."""
    from django.db import transaction

    from leadbase.capture.actions import SubmitJob, SubmitMeta, do_submit_forms

    jobs = [SubmitJob(form, body, SubmitMeta(ip=f"192.0.2.{n}")) for n, body in enumerate(people, 1)]
    with transaction.atomic():
        do_submit_forms(jobs)
    assert all(job.result.status == "processed" for job in jobs)


@pytest.mark.django_db(transaction=True)
def test_a_group_of_posts_queues_one_task_whose_worker_run_sends_each_email_once(form, settings, smtp_inbox):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}
    people = [{**ADA, "name": f"Person {n}", "email": f"person{n}@example.org"} for n in range(1, 5)]
    _group_of_posts(form, [*people, people[0]])  # person1 twice in the group: asked once
    answered = Lead.objects.get(email_key="person3@example.org")
    Consent.objects.filter(lead=answered).update(status="granted")  # confirmed meanwhile
    (queued,) = DBTaskResult.objects.filter(task_path__contains="confirmation")
    assert queued.task_path.endswith(".send_confirmation_emails_of") and len(queued.args_kwargs["args"][0]) == 5

    call_command("worker", batch=True, verbosity=0)

    got = sorted(recipient for _, recipient, _ in smtp_inbox.messages)
    assert got == ["person1@example.org", "person2@example.org", "person4@example.org"]
    queued.refresh_from_db()
    assert (queued.status, queued.return_value) == ("SUCCESSFUL", {"sent": 3, "not_needed": 2, "retried": 0})


@pytest.mark.django_db(transaction=True)
def test_a_refused_recipient_of_a_group_is_tried_again_as_its_own_task_and_fails_alone(
    form, settings, smtp_inbox
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}
    smtp_inbox.refuse = "person2@example.org"
    _group_of_posts(form, [{**ADA, "name": f"Person {n}", "email": f"person{n}@example.org"} for n in range(1, 4)])

    call_command("worker", batch=True, verbosity=0)  # runs the group, then the retry it queued

    assert sorted(r for _, r, _ in smtp_inbox.messages) == ["person1@example.org", "person3@example.org"]
    group, retry = DBTaskResult.objects.filter(task_path__contains="confirmation").order_by("enqueued_at")
    assert (group.status, group.return_value) == ("SUCCESSFUL", {"sent": 2, "not_needed": 0, "retried": 1})
    person2 = Lead.objects.get(email_key="person2@example.org")
    assert retry.task_path.endswith(".send_confirmation_email")
    assert retry.args_kwargs["args"] == [person2.pk, form.pk, ["email_marketing"], ""]
    assert retry.status == "FAILED" and "SMTPRecipientsRefused" in retry.exception_class_path


@pytest.mark.django_db(transaction=True)
def test_one_refused_recipient_fails_its_own_task_only(client, form, settings, smtp_inbox):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}
    for n in range(1, 4):
        assert submit(client, {**ADA, "name": f"Person {n}", "email": f"person{n}@example.org"}).status_code == 200
    smtp_inbox.refuse = "person2@example.org"

    call_command("worker", batch=True, verbosity=0)

    assert sorted(r for _, r, _ in smtp_inbox.messages) == ["person1@example.org", "person3@example.org"]
    from django_tasks_db.models import DBTaskResult

    person2 = Lead.objects.get(email_key="person2@example.org")
    posts = DBTaskResult.objects.filter(task_path=send_confirmation_emails_of.module_path)
    assert sorted(r["sent"] for r in posts.values_list("return_value", flat=True)) == [0, 1, 1]
    (retry,) = DBTaskResult.objects.filter(task_path=send_confirmation_email.module_path)  # tried once more
    assert retry.args_kwargs["args"][0] == person2.pk and retry.status == "FAILED"


@pytest.mark.django_db
def test_the_confirmation_page_lists_what_was_agreed_in_the_emails_order(
    client, personas, django_capture_on_commit_callbacks
):
    # The email followed the form's order and the page the alphabet: two lists of one request.
    do_create_form(
        personas.workspace,
        {
            "name": "Webinar",
            "fields": [{"key": "name"}, {"key": "email"}],
            "consents": [{"purpose": "events", "text": "Invite me to events."},
                         {"purpose": "calls", "text": "Call me about it."}],
        },
        actor=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        answer = submit(client, {"name": "Ada Lovelace", "email": "ada@example.org",
                                 "consent_events": True, "consent_calls": True}, slug="webinar")
    assert answer.status_code == 200, answer.content

    (message,) = mail.outbox
    assert message.subject == f"Please confirm you want to hear from {personas.workspace.name}"
    body = message.body
    assert body.index("Invite me to events.") < body.index("Call me about it.")
    page = client.get(link_path(body)).content.decode()
    assert page.index("Invite me to events.") < page.index("Call me about it.")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("configured", "has_name", "expected"),
    [
        ("Leadbase <leadbase@leads.example.com>", False, "Acme Studio <leadbase@leads.example.com>"),  # the default
        ("news@acme.example", False, "Acme Studio <news@acme.example>"),
        ("Acme News <news@acme.example>", True, "Acme News <news@acme.example>"),  # named: kept
    ],
)
def test_the_confirmation_comes_from_the_workspace_unless_the_setting_names_a_sender(
    client, form, personas, settings, django_capture_on_commit_callbacks, configured, has_name, expected
):
    # It came from "Leadbase", a name the person who asked Acme for news had never met.
    settings.DEFAULT_FROM_EMAIL, settings.FROM_EMAIL_HAS_NAME = configured, has_name
    personas.workspace.name = "Acme Studio"
    personas.workspace.save()
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)

    (message,) = mail.outbox
    assert message.from_email == expected

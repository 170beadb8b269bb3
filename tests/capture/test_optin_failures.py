"""Double opt-in when sending goes wrong: the SMTP server down, refusing for now, unreachable, and
a lead merged away before its email went out. Real aiosmtpd servers and the real worker."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leadbase.leads.actions import do_create_lead, do_merge_leads
from leadbase.leads.models import Consent, Lead
from tests.capture.test_optin import (  # noqa: F401  (fixtures)
    ADA,
    _immediate_tasks,
    form,
    link_path,
    smtp_inbox,
    submit,
)

DB_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}


def _confirmations():
    return DBTaskResult.objects.filter(task_path__contains="confirmation")


def _retries():
    """The emails tried again: a post's task (``send_confirmation_emails_of``) queues each email
    that failed as a task of its own, retried later while the failure may pass."""
    return _confirmations().filter(task_path__endswith=".send_confirmation_email")


def _due_now():
    """What the worker's delay before trying again would come to, without the wait."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_an_email_posted_while_the_smtp_server_is_down_goes_out_once_it_is_back(client, form, settings, smtp_inbox):
    settings.TASKS = DB_QUEUE
    port = settings.EMAIL_PORT
    with socket.socket() as s:  # a port where nothing listens: the server is down
        s.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = s.getsockname()[1]
    assert submit(client).status_code == 200

    call_command("worker", batch=True, verbosity=0)

    (post,) = _confirmations().exclude(pk__in=_retries())
    assert post.return_value == {"sent": 0, "not_needed": 0, "retried": 1}
    (task,) = _retries()  # to be tried again after the worker's first delay, not at once, not failed
    assert task.status == "READY" and task.run_after > timezone.now() + timedelta(seconds=10)
    assert [r for _, r, _ in smtp_inbox.messages] == []
    settings.EMAIL_PORT = port  # the server is back
    _due_now()
    call_command("worker", batch=True, verbosity=0)

    assert [r for _, r, _ in smtp_inbox.messages] == ["ada@example.org"]
    task.refresh_from_db()
    assert (task.status, task.return_value) == ("SUCCESSFUL", True)


@pytest.mark.django_db(transaction=True)
def test_a_recipient_refused_for_now_is_tried_again_and_one_refused_for_good_is_not(
    client, form, settings, smtp_inbox
):
    settings.TASKS = DB_QUEUE
    codes = {"later@example.org": "451 4.7.1 greylisted, try again later", "never@example.org": "550 no such user"}
    answer = smtp_inbox.handle_RCPT

    async def handle_rcpt(server, session, envelope, address, rcpt_options):
        if address in codes:
            return codes[address]
        return await answer(server, session, envelope, address, rcpt_options)

    smtp_inbox.handle_RCPT = handle_rcpt
    for address in codes:
        assert submit(client, {**ADA, "email": address}).status_code == 200

    call_command("worker", batch=True, verbosity=0)

    statuses = dict(_retries().values_list("args_kwargs__args__0", "status"))
    later, never = (Lead.objects.get(email_key=a).pk for a in codes)
    assert statuses == {later: "READY", never: "FAILED"}
    del codes["later@example.org"]  # the greylisting passes
    _due_now()
    call_command("worker", batch=True, verbosity=0)

    assert [r for _, r, _ in smtp_inbox.messages] == ["later@example.org"]
    assert dict(_retries().values_list("args_kwargs__args__0", "status")) == {
        later: "SUCCESSFUL", never: "FAILED"
    }


@pytest.mark.django_db(transaction=True)
def test_a_server_that_does_not_answer_holds_the_worker_once_per_batch_not_twice_per_email(client, form, settings):
    settings.TASKS = DB_QUEUE
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_TIMEOUT = 1
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    with socket.socket() as silent:  # accepts connections, never greets (a wrong EMAIL_URL port)
        silent.bind(("127.0.0.1", 0))
        silent.listen(50)
        settings.EMAIL_HOST, settings.EMAIL_PORT = silent.getsockname()
        for n in range(1, 6):
            assert submit(client, {**ADA, "name": f"Person {n}", "email": f"person{n}@example.org"}).status_code == 200

        started = time.monotonic()
        call_command("worker", batch=True, verbosity=0)
        took = time.monotonic() - started

    assert took < 4  # one timeout (and one reconnection), not two per email (10 s)
    assert sorted(_retries().values_list("status", flat=True)) == ["READY"] * 5


@pytest.mark.django_db(transaction=True)
def test_a_lead_merged_away_before_its_email_went_out_still_gets_a_link_that_confirms(
    client, form, personas, settings, smtp_inbox
):
    settings.TASKS = DB_QUEUE
    assert submit(client).status_code == 200  # queued, not sent yet
    asked = Lead.objects.get()
    known = do_create_lead(
        personas.workspace, {"name": "Ada King", "email": "ada.king@example.org"}, actor=personas.owner
    ).lead
    do_merge_leads(known, asked, actor=personas.owner)

    call_command("worker", batch=True, verbosity=0)

    ((_, recipient, content),) = smtp_inbox.messages
    assert recipient == "ada@example.org"  # the address the person typed
    text = content.decode().replace("=\r\n", "")
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert client.post(link_path(text)).status_code == 200
    assert Consent.objects.get(lead=known).status == "granted"


# --- on Redis (RQ): the same retries, by leadbase.rq_jobs ----------------------------------------

POST_ONE = """
from django.db import transaction
from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Workspace
from leadbase.capture.actions import SubmitJob, SubmitMeta, do_create_form, do_submit_forms
owner = do_create_user("o@example.com", "password-123", workspace_slug="w", role="owner")
form = do_create_form(Workspace.objects.get(slug="w"), {
    "name": "Contact", "slug": "contact", "double_opt_in": True,
    "fields": [{"key": "name", "required": True}, {"key": "email", "type": "email", "required": True}],
    "consents": [{"purpose": "email_marketing", "text": "Email me news."}],
}, actor=owner)
job = SubmitJob(form, {"name": "Ada Lovelace", "email": "ada@example.org", "consent_email_marketing": "on"},
                SubmitMeta(ip="192.0.2.1"))
with transaction.atomic():
    do_submit_forms([job])
assert job.result.status == "processed", job.result
"""
# Scheduled jobs (a retry, a task queued with run_after) made due now: what RQ's scheduler does
# once their time has come.
DUE_NOW = """
import django_rq
queue = django_rq.get_queue("default")
for job_id in queue.scheduled_job_registry.get_job_ids():
    job = queue.fetch_job(job_id)
    queue.scheduled_job_registry.remove(job)
    queue.enqueue_job(job)
"""
RQ_STATE = """
import json, django_rq
from django.utils import timezone
queue = django_rq.get_queue("default")
scheduled = []
for job_id in queue.scheduled_job_registry.get_job_ids():
    job = queue.fetch_job(job_id)
    due = queue.scheduled_job_registry.get_scheduled_time(job)
    scheduled.append([job.func_name.rsplit(".", 1)[1], job.retries_left, round((due - timezone.now()).total_seconds())])
print(json.dumps({"scheduled": scheduled, "failed": queue.failed_job_registry.count}))
"""


@pytest.mark.redis
def test_on_redis_an_email_the_server_could_not_take_is_tried_again_later_not_failed(tmp_path):
    import json

    from aiosmtpd.controller import Controller

    from tests.capture.test_optin import Inbox
    from tests.test_worker import _leadbase, _migrated

    env = _migrated(tmp_path, "redis")
    with socket.socket() as s:  # a port where nothing listens: the server is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env.update(EMAIL_URL=f"smtp://127.0.0.1:{port}")
    _leadbase(env, "shell", "--no-imports", "-c", POST_ONE)

    _leadbase(env, "worker", "--batch")  # the post's task: its email fails, its own task waits
    state = json.loads(_leadbase(env, "shell", "--no-imports", "-c", RQ_STATE))
    assert state["failed"] == 0 and [s[:2] for s in state["scheduled"]] == [["send_confirmation_email", None]]
    _leadbase(env, "shell", "--no-imports", "-c", DUE_NOW)
    again = subprocess.run(  # fails again: put back for later with the retry schedule
        [sys.executable, "-m", "leadbase", "worker", "--batch"], env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert "failed for now (ConnectionRefusedError" in again.stderr and "trying again in 15 s" in again.stderr
    assert "Traceback" not in again.stderr  # an expected retry is not an error

    state = json.loads(_leadbase(env, "shell", "--no-imports", "-c", RQ_STATE))
    ((name, retries_left, due_in),) = state["scheduled"]
    assert (name, state["failed"]) == ("send_confirmation_email", 0)  # not failed for good
    assert retries_left == 98 and 10 <= due_in <= 15  # 100 runs in all; the first wait 15 s
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)  # the server is back
    controller.start()
    try:
        _leadbase(env, "shell", "--no-imports", "-c", DUE_NOW)
        _leadbase(env, "worker", "--batch")
        assert inbox.arrived.wait(5)
    finally:
        controller.stop()
    assert [recipient for _, recipient, _ in inbox.messages] == ["ada@example.org"]
    state = json.loads(_leadbase(env, "shell", "--no-imports", "-c", RQ_STATE))
    assert state == {"scheduled": [], "failed": 0}

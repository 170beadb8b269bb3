"""Spam defences: honeypot, fill time, proof of work, rate limits; spam makes no lead."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leadbase.capture import spam
from leadbase.capture.actions import do_create_form
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import RateBucket, RefusedPosts, Submission
from leadbase.capture.signals import submission_spam
from leadbase.leads.models import Lead

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html"}
ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


@pytest.fixture
def pow_form(personas):
    return do_create_form(
        personas.workspace,
        {"name": "Guarded", "fields": [{"key": "name"}, {"key": "email"}], "proof_of_work": True},
        actor=None,
    )


def post_json(client, body, slug="contact", **extra):
    return client.post(f"/f/{slug}", json.dumps(body), content_type="application/json", **extra)


def token_issued(form, seconds_ago: float, monkeypatch) -> str:
    then = time.time_ns() - int(seconds_ago * 1e9)
    with monkeypatch.context() as m:
        m.setattr(spam.time, "time_ns", lambda: then)
        return spam.fill_token(form)


def test_a_filled_honeypot_gets_the_usual_thank_you_and_no_lead(
    client, form, django_capture_on_commit_callbacks
):
    heard = []
    submission_spam.connect(lambda **kw: heard.append(kw), weak=False, dispatch_uid="test-spam")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/f/contact", {**ADA, "fax": "+1 555 0100"}, **HTML)
    finally:
        submission_spam.disconnect(dispatch_uid="test-spam")

    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert not Lead.objects.exists()
    row = Submission.objects.get()
    assert (row.status, row.spam_reason) == ("spam", "honeypot")
    assert heard == [
        {
            "signal": submission_spam,
            "sender": Submission,
            "workspace_id": form.workspace_id,
            "submission_id": row.pk,
            "form_slug": "contact",
            "reason": "honeypot",
        }
    ]


def test_spam_answers_json_clients_exactly_like_a_real_submission(client, form):
    spam_answer = post_json(client, {**ADA, "fax": "x"})
    real_answer = post_json(client, ADA)

    assert (spam_answer.status_code, spam_answer.json()) == (
        real_answer.status_code,
        real_answer.json(),
    )
    assert spam_answer.json()["ok"] is True


def test_a_form_posted_faster_than_the_minimum_fill_time_is_spam_and_asked_to_send_again(
    client, form, settings, monkeypatch
):
    # It got the thank-you answer, so a person quick with autofill was told their message was
    # sent, and lost: no lead, no email.
    settings.FORM_MIN_FILL_SECONDS = 3
    token = token_issued(form, 1, monkeypatch)

    fast = post_json(client, {**ADA, "lb_ts": token})
    page = client.post("/f/contact", {**ADA, "lb_ts": token}, **HTML)
    slow = post_json(client, {**ADA, "lb_ts": token_issued(form, 4, monkeypatch)})

    assert (fast.status_code, fast.json()["code"]) == (400, "too_fast")
    assert "send the form again" in fast.json()["error"]
    assert page.status_code == 400
    shown = page.content.decode()
    assert "send the form again" in shown and 'value="Ada Lovelace"' in shown
    assert f'name="lb_ts" value="{token}"' in shown  # the same token: sent again, it is in time
    assert slow.status_code == 200
    assert list(Submission.objects.order_by("id").values_list("status", "spam_reason")) == [
        ("spam", "too_fast"),
        ("spam", "too_fast"),
        ("processed", ""),
    ]
    assert Lead.objects.count() == 1


def test_a_forged_token_or_one_made_for_another_form_is_spam(client, form, pow_form, monkeypatch):
    post_json(client, {**ADA, "lb_ts": "contact:1:forged"})
    post_json(client, {**ADA, "lb_ts": token_issued(pow_form, 60, monkeypatch)})

    assert list(Submission.objects.values_list("spam_reason", flat=True)) == [
        "bad_token",
        "bad_token",
    ]


def test_a_post_without_a_token_is_not_spam_so_plain_html_forms_and_servers_work(
    client, form, settings
):
    settings.FORM_MIN_FILL_SECONDS = 5

    assert post_json(client, ADA).status_code == 200
    assert Submission.objects.get().status == "processed"


def test_the_pages_and_the_form_definition_carry_a_fill_time_token(client, form):
    page = client.get("/p/contact").content.decode()
    definition = client.get("/f/contact.json").json()

    assert 'name="lb_ts" value="contact:' in page
    assert 'name="fax"' in page and 'tabindex="-1"' in page
    assert definition["token"].startswith("contact:") and definition["honeypot"] == "fax"


def test_a_proof_of_work_form_needs_a_solved_challenge(client, pow_form):
    challenge = client.get("/f/guarded.json").json()["pow"]["challenge"]
    nonce = spam.solve_pow(challenge)
    wrong = next(str(n) for n in range(10**6) if not spam.pow_solves(challenge, str(n)))

    post_json(client, ADA, slug="guarded")
    post_json(client, {**ADA, "lb_pow": challenge, "lb_nonce": wrong}, slug="guarded")
    post_json(client, {**ADA, "lb_pow": challenge, "lb_nonce": nonce}, slug="guarded")
    post_json(client, {**ADA, "lb_pow": challenge, "lb_nonce": nonce}, slug="guarded")

    assert list(Submission.objects.order_by("id").values_list("status", "spam_reason")) == [
        ("spam", "pow_missing"),
        ("spam", "pow_invalid"),
        ("processed", ""),
        ("spam", "pow_reused"),
    ]


def test_an_expired_challenge_is_refused(client, pow_form, monkeypatch):
    then = time.time_ns() - (spam.POW_MAX_AGE + 5) * 10**9
    monkeypatch.setattr(spam.time, "time_ns", lambda: then)
    challenge = spam.pow_challenge(pow_form)
    monkeypatch.undo()

    post_json(
        client, {**ADA, "lb_pow": challenge, "lb_nonce": spam.solve_pow(challenge)}, slug="guarded"
    )

    assert Submission.objects.get().spam_reason == "pow_expired"


def test_the_hosted_page_of_a_proof_of_work_form_ships_the_challenge_and_the_solver(
    client, pow_form
):
    response = client.get("/f/guarded")
    page = response.content.decode()

    assert 'data-lb-pow="guarded:' in page and f'data-lb-pow-bits="{spam.POW_BITS}"' in page
    assert "/static/capture/pow.js" in page
    # A challenge is good for one post: no cache may hand it to a second visitor.
    assert response["Cache-Control"] == "no-store"


def test_a_form_page_without_proof_of_work_may_be_cached(client, form):
    assert "no-store" not in client.get("/f/contact").get("Cache-Control", "")


def test_the_per_ip_rate_limit_answers_429_with_retry_after_and_writes_nothing(
    client, form, settings
):
    settings.FORM_RATE_PER_IP = 3
    answers = [
        post_json(
            client, {**ADA, "email": f"a{i}@example.org"}, REMOTE_ADDR="198.51.100.7"
        ).status_code
        for i in range(4)
    ]

    assert answers == [200, 200, 200, 429]
    refused = post_json(client, ADA, REMOTE_ADDR="198.51.100.7")
    assert refused.json()["code"] == "rate_limited"
    retry_after = int(refused["Retry-After"])
    assert 0 < retry_after <= 60
    assert Submission.objects.count() == 3
    assert post_json(client, ADA, REMOTE_ADDR="198.51.100.8").status_code == 200
    # Not journaled, but counted for the form: its list and its journal page say how many.
    assert RefusedPosts.objects.get(form=form).count == 2


def test_the_forms_list_and_journal_show_the_posts_refused_over_the_rate_limits(
    client, form, settings, personas
):
    settings.FORM_RATE_PER_FORM = 1
    for i in range(4):
        post_json(client, ADA, REMOTE_ADDR=f"198.51.100.{i}")
    client.force_login(personas.owner)

    listed = client.get(reverse("forms:list")).content.decode()
    journal = client.get(reverse("forms:submissions", args=[form.pk])).content.decode()

    assert "+3 over rate limits" in listed
    assert "3 posts came faster than the rate limits allow and were refused" in journal


def test_a_browser_over_the_rate_limit_gets_its_form_back_with_what_it_typed(client, form, settings):
    # It got a page "Sorry" with a link to an empty form at /f/<slug>: what was typed was lost.
    settings.FORM_RATE_PER_IP = 1
    client.post("/f/contact", ADA, REMOTE_ADDR="198.51.100.7", **HTML)

    refused = client.post("/f/contact", {**ADA, "name": "Grace Hopper"}, REMOTE_ADDR="198.51.100.7", **HTML)

    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "Too many submissions from your address; try again in" in page
    assert 'value="Grace Hopper"' in page and 'name="lb_ts"' in page
    assert Submission.objects.count() == 1


def test_the_per_form_rate_limit_holds_across_addresses(client, form, settings):
    settings.FORM_RATE_PER_FORM = 2
    answers = [post_json(client, ADA, REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(3)]

    assert answers == [200, 200, 429]


def test_a_rate_window_opens_again_after_a_minute():
    start = timezone.now()

    taken = [spam.take("ip:192.0.2.1", 2, start + timedelta(seconds=s)) for s in (0, 10, 20, 59)]
    later = spam.take("ip:192.0.2.1", 2, start + timedelta(seconds=61))

    assert taken[:2] == [0, 0]
    assert taken[2] == 40 and taken[3] == 1  # seconds until the window that began at 0 s ends
    assert later == 0
    assert RateBucket.objects.get(key="ip:192.0.2.1").count == 1


def test_ipv6_clients_are_limited_per_64_block():
    assert (
        spam.ip_key("2001:db8:1:2::1")
        == spam.ip_key("2001:db8:1:2:ffff::9")
        == "ip:2001:db8:1:2::/64"
    )
    assert spam.ip_key("2001:db8:1:3::1") != spam.ip_key("2001:db8:1:2::1")
    assert spam.ip_key("::ffff:192.0.2.1") == spam.ip_key("192.0.2.1") == "ip:192.0.2.1"


def test_stale_rate_windows_and_spent_challenges_are_pruned():
    now = timezone.now()
    RateBucket.objects.create(key="ip:192.0.2.1", window_start=now - timedelta(hours=3), count=5)
    RateBucket.objects.create(key="ip:192.0.2.2", window_start=now - timedelta(seconds=30), count=5)

    assert spam.prune_buckets(now) == 1
    assert list(RateBucket.objects.values_list("key", flat=True)) == ["ip:192.0.2.2"]


def test_spam_is_counted_per_form_on_the_forms_page(client, form, personas):
    post_json(client, {**ADA, "fax": "x"})
    post_json(client, {**ADA, "fax": "y"})
    post_json(client, ADA)
    client.force_login(personas.marketer)

    journal = client.get(f"/capture/forms/{form.pk}/submissions?status=spam")

    assert journal.context["spam_count"] == 2 and journal.context["total"] == 3
    assert [r.spam_reason for r in journal.context["rows"]] == ["honeypot", "honeypot"]
    post_json(client, ADA)  # Ada again: her lead is known, the post merged into it
    listed = client.get("/capture/forms/").context["forms"]
    # Counted as the Sources report counts them: submissions taken, new leads, people known.
    assert [(f.received, f.leads, f.merged, f.spam) for f in listed] == [(2, 1, 1, 2)]
    page = client.get("/capture/forms/").content.decode()
    assert "1 already known" in page


@pytest.mark.parametrize(
    ("forwarded", "address"),
    [
        ("198.51.100.9", "198.51.100.9"),
        ("10.0.0.1, 198.51.100.9", "198.51.100.9"),
        ("198.51.100.9:51234", "198.51.100.9"),  # proxies that append the port
        ("[2001:db8::9]:443", "2001:db8::9"),
        ("2001:db8::9", "2001:db8::9"),
        ("fe80::9%eth0", "fe80::9"),
        ("198.51.100.9, unknown", "192.0.2.1"),  # no address: the proxy's, not none at all
        ("198.51.100.9,", "192.0.2.1"),
    ],
)
def test_behind_a_proxy_the_client_is_the_last_forwarded_hop_or_else_the_proxy(
    rf, settings, forwarded, address
):
    from leadbase.capture.public import client_ip

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = rf.post("/f/contact", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == address


def test_forwarded_for_is_ignored_unless_behind_a_proxy(rf, settings):
    from leadbase.capture.public import client_ip

    settings.SECURE_PROXY_SSL_HEADER = None
    request = rf.post("/f/contact", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.9")

    assert client_ip(request) == "192.0.2.1"


def test_an_unreadable_forwarded_hop_cannot_dodge_the_per_ip_limit(client, form, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.FORM_RATE_PER_IP = 2
    answers = [
        post_json(
            client,
            {**ADA, "email": f"a{i}@example.org"},
            REMOTE_ADDR="192.0.2.1",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, junk{i}",
        ).status_code
        for i in range(3)
    ]

    assert answers == [200, 200, 429]
    assert set(Submission.objects.values_list("ip", flat=True)) == {"192.0.2.1"}


def test_a_plain_form_shown_again_carries_no_fresh_token_so_a_quick_fix_is_taken(
    client, form, settings
):
    settings.FORM_MIN_FILL_SECONDS = 5
    refused = client.post("/f/contact", {"name": "Ada Lovelace", "email": ""}, **HTML)
    page = refused.content.decode()
    assert refused.status_code == 400 and 'name="lb_ts" value=""' in page

    again = client.post("/f/contact", {**ADA, "lb_ts": ""}, **HTML)  # ticked, sent at once

    assert again.status_code == 200
    assert Submission.objects.filter(status="processed").count() == 1
    assert Lead.objects.filter(email="ada@example.org").exists()


def test_a_form_shown_again_keeps_the_token_it_was_posted_with(client, form, monkeypatch):
    token = token_issued(form, 30, monkeypatch)

    page = client.post(
        "/f/contact", {"name": "Ada Lovelace", "email": "", "lb_ts": token}, **HTML
    ).content.decode()

    assert f'name="lb_ts" value="{token}"' in page

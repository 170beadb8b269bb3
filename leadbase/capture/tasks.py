"""Background tasks of capture (run by `leadbase worker`, enqueued on commit)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_tasks import task

from leadbase import mail
from leadbase.capture.emails import confirmation_message
from leadbase.capture.models import Form
from leadbase.leads.models import Consent, ConsentStatus, Lead
from leadbase.leads.queries import merged_away
from leadbase.tasks import RETRY_FIRST, enqueue_with_write, retried_when, runs_many

logger = logging.getLogger(__name__)


def send_confirmation_emails(calls: list[tuple[list[Any], dict[str, Any]]]) -> list[Any]:
    """Send the confirmation emails of several queued ``send_confirmation_email`` tasks with
    three queries in all, not three per email; the worker calls it for a run of such tasks.
    Returns each task's result (True/False) or the exception its email raised."""
    asks = [_ask(*args, **kwargs) for args, kwargs in calls]
    leads, moved_to = _leads({a[0] for a in asks})
    forms = Form.objects.select_related("workspace").in_bulk({a[1] for a in asks})
    pending = set(
        Consent.objects.filter(
            lead_id__in={lead.pk for lead in leads.values()},
            purpose__in={p for a in asks for p in a[2]},
            status=ConsentStatus.PENDING,
        ).values_list("lead_id", "purpose")
    )
    results: list[Any] = []
    outgoing: list[tuple[int, mail.Prepared]] = []  # (the ask's place in results, its email)
    for lead_id, form_id, purposes, to in asks:
        lead, form = leads.get(lead_id), forms.get(form_id)
        waiting = sorted(p for p in purposes if lead is not None and (lead.pk, p) in pending)
        if lead is None or form is None or not waiting:
            results.append(False)
            continue
        try:
            message = confirmation_message(lead, form, waiting, to=to or moved_to.get(lead_id, ""))
        except Exception as exc:  # noqa: BLE001 (recorded on this task; the others go on)
            results.append(exc)
            continue
        pending.difference_update((lead.pk, p) for p in waiting)  # the same ask twice: one email
        outgoing.append((len(results), message))
        results.append(None)
    # All at once: over a server that offers PIPELINING, one round trip per email (``send_all``).
    sent = mail.send_all([message for _, message in outgoing])
    for (place, _), result in zip(outgoing, sent, strict=True):
        results[place] = True if result == 1 else result
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        logger.warning("%s confirmation email(s) not sent: %s", len(failed), mail.describe_failure(failed[0]))
    return results


def _leads(ids: set[int]) -> tuple[dict[int, Lead], dict[int, str]]:
    """The leads of ``ids`` that have an address, by id. A lead merged into another since its
    post (its consents moved there) is found as the lead it was merged into, with the address
    it had (the second dict): the person who asked is still sent the email they wait for, and
    its link confirms the consents where they are now."""
    leads = _with_address().in_bulk(ids)
    missing = ids - leads.keys()
    if not missing:
        return leads, {}
    moves = merged_away(missing)
    kept = _with_address().in_bulk({new for new, _ in moves.values()})
    leads.update({old: kept[new] for old, (new, _) in moves.items() if new in kept})
    return leads, {old: snapshot.get("email") or "" for old, (_, snapshot) in moves.items()}


def _with_address() -> QuerySet[Lead]:
    """Leads with an address, loaded with what a confirmation email uses: the whole row (custom
    fields, scores, a dozen dates) was an eighth of the worker's instructions per email."""
    return Lead.objects.filter(email_key__isnull=False).only("id", "name", "given_name", "email")


def _ask(lead_id: int, form_id: int, purposes: list[str], to: str = "") -> tuple[int, int, list[str], str]:
    return lead_id, form_id, list(purposes), to


@task()
@runs_many(send_confirmation_emails)
@retried_when(mail.is_temporary)
def send_confirmation_email(lead_id: int, form_id: int, purposes: list[str], to: str = "") -> bool:
    """Send the double opt-in email for the consents of ``purposes`` that are still pending, to
    ``to`` (the address the visitor typed, when the lead keeps another one) or the lead's email.

    A form post's group queues ``send_confirmation_emails_of``; this task is queued for an email
    of such a task that failed (and was queued for each post before that task existed).

    Returns False (and sends nothing) when the lead is gone, has no valid address, or has
    answered already, so a retried task never asks twice. An email the server could not take
    for now (down, a 4xx reply) is tried again later by the worker (``retried_when``).
    """
    (result,) = send_confirmation_emails([([lead_id, form_id, purposes, to], {})])
    if isinstance(result, BaseException):
        raise result
    return result


def _send_groups(calls: list[tuple[list[Any], dict[str, Any]]]) -> list[Any]:
    """Run several queued ``send_confirmation_emails_of`` tasks with one
    ``send_confirmation_emails``; each task's result is its counts."""
    groups = [_asks(*args, **kwargs) for args, kwargs in calls]
    results = send_confirmation_emails([(list(ask), {}) for asks in groups for ask in asks])
    outcomes, start = [], 0
    for asks in groups:
        mine, start = results[start : start + len(asks)], start + len(asks)
        again = [(ask, result) for ask, result in zip(asks, mine) if isinstance(result, BaseException)]
        for ask, exc in again:  # its own task: tried once more, and a lasting failure is its own
            # A failure that may pass counts as the task's first run: tried again after the
            # worker's first delay, not at once from a server that has just failed it.
            retry = send_confirmation_email
            if mail.is_temporary(exc) and retry.get_backend().supports_defer:
                retry = retry.using(run_after=timezone.now() + timedelta(seconds=RETRY_FIRST))
            enqueue_with_write(retry, *ask)
        later = sum(1 for _, exc in again if mail.is_temporary(exc))
        if later:
            logger.warning("%s confirmation email(s) will be tried again in %s s, each as a task of its own",
                           later, RETRY_FIRST)
        outcomes.append({"sent": mine.count(True), "not_needed": mine.count(False), "retried": len(again)})
    return outcomes


def _asks(asks: list[list[Any]]) -> list[tuple[int, int, list[str], str]]:
    return [_ask(*ask) for ask in asks]


@task()
@runs_many(_send_groups)
def send_confirmation_emails_of(asks: list[list[Any]]) -> dict[str, int]:
    """The confirmation emails a group of form posts asked for (each ``[lead_id, form_id,
    purposes, to]``, as ``send_confirmation_email`` takes them): one task for the group, so the
    group's write inserts one task row and the worker claims and records one, not one per post.

    Every form post's group queues this task, one email or many: the worker runs a run of them
    with one call (``runs_many``), three queries for all their emails. An email that fails is
    queued again as its own ``send_confirmation_email`` task (after ``RETRY_FIRST`` seconds when
    the failure may pass), so it is tried again and, if it fails for good, fails alone; the
    others are not sent twice. Returns the counts: sent, not needed (answered already, lead gone),
    retried.
    """
    (result,) = _send_groups([([asks], {})])
    return result

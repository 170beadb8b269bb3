"""Background tasks of webhooks, run by `leadbase worker` (queued by ``delivery.queue_attempt``)."""

from __future__ import annotations

from django_tasks import task

from leadbase.hooks.delivery import attempt_delivery


@task()
def deliver(delivery_id: int, attempt: int) -> str:
    """Make the delivery's attempt number ``attempt + 1``; see ``delivery.attempt_delivery``.

    Never raises for HTTP failures: they are recorded on the delivery and retried by a new task.
    """
    return attempt_delivery(delivery_id, attempt)

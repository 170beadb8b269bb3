from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxTask(models.Model):
    """A task for RQ written with the write that caused it; deleted once Redis has it."""

    task_path = models.CharField(max_length=255)
    args_kwargs = models.JSONField()  # {"args": [...], "kwargs": {...}}, as the task is called
    run_after = models.DateTimeField(null=True, blank=True)
    written_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Who is handing it over, and since when: Redis is called outside any database transaction
    # (a Redis that hangs must not hold the database's write lock), so a row is claimed first.
    claim = models.CharField(max_length=32, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.task_path} written {self.written_at:%Y-%m-%d %H:%M:%S}"

"""Logging filters of Leadbase's default logging configuration (``LOGGING`` in settings)."""

from __future__ import annotations

import logging


class NoTracebackBelow500(logging.Filter):
    """Keep the line Django logs for a refused request (403, 404…) but not its traceback.

    Django logs a ``PermissionDenied`` with the exception attached, so every 403 (a marketer
    opening an owner's page) printed a whole traceback of code that worked as meant; a 500 keeps
    its traceback, which is what it is for."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class RepeatsFilter(logging.Filter):
    """Let a message through once per ``seconds`` (the same format string from the same logger,
    for the same error when an exception is among its arguments): RQ logs "could not connect to
    Redis instance" every few seconds while Redis is down, 151 lines in 79 s from three worker
    lanes. Its first one, and one every ``seconds``, still say it; a new cause (Redis back with
    another password) is said at once, not five minutes later."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.last: dict[tuple[str, str, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        cause = next((str(arg) for arg in args if isinstance(arg, BaseException)), "")
        key = (record.name, str(record.msg), cause)
        if record.created - self.last.get(key, float("-inf")) < self.seconds:
            return False
        self.last[key] = record.created
        return True

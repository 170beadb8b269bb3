"""Domain errors raised by account actions."""


class AccountError(Exception):
    """A refused account change; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

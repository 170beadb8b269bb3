"""Domain errors raised by account actions."""


class AccountError(Exception):
    """A refused account change; ``code`` is stable, ``message`` is for people, ``field`` the
    field at fault when there is one."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

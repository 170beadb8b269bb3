"""Domain errors raised by webhook actions (never HTTP responses)."""


class WebhookError(Exception):
    """A refused change; ``code`` is stable (e.g. ``invalid_url``), ``message`` is for people.

    ``field`` names the input field at fault when there is one, so a form can point at it.
    """

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

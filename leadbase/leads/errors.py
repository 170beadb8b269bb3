"""Domain errors raised by lead actions (never HTTP responses)."""


class LeadError(Exception):
    """A refused change; ``code`` is stable (e.g. ``invalid_email``), ``message`` is for people.

    ``field`` names the input field at fault when there is one, so the API can point at it.
    """

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class LeadRejected(LeadError):
    """A record that cannot become a lead (no plausible name, no valid contact, suppressed)."""


class TransitionError(LeadError):
    """A state change that is not allowed from the current state, or that lost a race."""

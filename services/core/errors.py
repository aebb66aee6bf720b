from __future__ import annotations

from schemas.commands import ErrorCode


class Refused(Exception):
    """A request that cannot be applied, with a reason for the person who sent it."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Unprocessable(Exception):
    """A message this version can never handle (an event type it does not know, a body that does
    not parse): it goes to the dead letters at once instead of being retried."""

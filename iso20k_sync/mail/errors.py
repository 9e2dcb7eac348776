"""The one error a mailer raises."""

from __future__ import annotations


class MailError(Exception):
    """A message was not sent (or its fate is unknown); the message is safe to show (no secrets).

    ``retriable``: trying again later may work (server down, a temporary 4xx SMTP answer, Graph's 429 or
    5xx). Not retriable: authentication failed, a recipient was refused for good, the message is too large,
    or the configuration is wrong; trying again would fail the same way.
    """

    def __init__(self, message: str, *, retriable: bool) -> None:
        super().__init__(message)
        self.retriable = retriable

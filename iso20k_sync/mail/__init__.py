"""Sending the weekly digest by mail: one protocol, two transports (:mod:`.smtp` and :mod:`.graph`)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Protocol

from .errors import MailError

__all__ = ["MailError", "Mailer", "ensure_message_id"]


class Mailer(Protocol):
    """Sends messages through one transport."""

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` to its To, Cc and Bcc recipients; raise :class:`MailError` when that fails.

        A message without a Message-ID gets one (set on ``message``), to be kept for :meth:`already_sent`.
        """

    def already_sent(self, message_id: str) -> bool | None:
        """Whether a message with this Message-ID was sent (True or False), or None when the transport
        cannot tell (SMTP): lets a run that failed halfway avoid mailing sponsors twice."""

    def close(self) -> None:
        """Release connections; the mailer is not used afterwards."""


def ensure_message_id(message: EmailMessage) -> str:
    """The message's Message-ID, set to a new unique one (in the sender's domain) when it has none."""
    if message["Message-ID"] is None:
        domain = parseaddr(str(message["From"] or ""))[1].rpartition("@")[2]
        message["Message-ID"] = make_msgid(domain=domain or "iso20k-sync.invalid")
    return str(message["Message-ID"])

"""Mail over SMTP (smtplib): implicit TLS, STARTTLS (required, never skipped) or, to a loopback relay only,
a plain connection. One connection per message: a weekly digest needs no pooling."""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from email.message import EmailMessage
from typing import Literal

from . import ensure_message_id
from .errors import MailError

Security = Literal["none", "starttls", "tls"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (names are not resolved)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SmtpMailer:
    """Sends through one SMTP server; the password is kept out of every message and repr."""

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        username: str | None,
        password: str | None,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"SMTP security must be none, starttls or tls, not {security!r}")
        if security == "none" and not is_loopback(host):
            raise ValueError(
                f"SMTP security 'none' is only allowed to a loopback host, not {host}: a plain connection "
                "would send credentials and content in clear; use starttls or tls"
            )
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password go together: give both or neither")
        self.host, self.port, self.security = host, port, security
        self.username, self.timeout = username, timeout
        self._password = password
        self._context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        return f"SmtpMailer({self.host}:{self.port}, security={self.security}, username={self.username!r})"

    def send(self, message: EmailMessage) -> None:
        ensure_message_id(message)
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise self._error(error) from None
        if refused:  # some recipients took it: sending again would mail them twice
            raise MailError(f"{self._where()} sent the message but refused {_refusals(refused)}",
                            retriable=False)  # fmt: skip

    def already_sent(self, message_id: str) -> bool | None:
        """SMTP cannot tell."""
        return None

    def close(self) -> None:
        """Nothing to release: each message has its own connection."""

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=self._context)  # SMTPNotSupportedError when not offered
                smtp.ehlo()
            if self.username is not None:
                smtp.login(self.username, self._password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    def _error(self, error: BaseException) -> MailError:
        where = self._where()
        if isinstance(error, smtplib.SMTPNotSupportedError):
            what = "STARTTLS" if "STARTTLS" in str(error) else "AUTH" if "AUTH" in str(error) else str(error)
            return MailError(
                f"{where} does not offer {what}, which this configuration requires", retriable=False
            )
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            retriable = all(400 <= code < 500 for code, _ in error.recipients.values())
            return MailError(f"{where} refused {_refusals(error.recipients)}", retriable=retriable)
        if isinstance(error, smtplib.SMTPAuthenticationError):
            what = f"refused the login of {self.username!r} ({_answer(error.smtp_code, error.smtp_error)})"
            return MailError(self._redact(f"{where} {what}"), retriable=400 <= error.smtp_code < 500)
        if isinstance(error, smtplib.SMTPResponseException):
            code = error.smtp_code
            too_large = " (the message is too large)" if code == 552 else ""
            answer = _answer(code, error.smtp_error)
            return MailError(
                self._redact(f"{where} answered {answer}{too_large}"), retriable=400 <= code < 500
            )
        if isinstance(error, smtplib.SMTPServerDisconnected):
            return MailError(f"{where} closed the connection: {self._redact(str(error))}", retriable=True)
        if isinstance(error, smtplib.SMTPException):
            return MailError(self._redact(f"{where}: {error}"), retriable=False)
        if isinstance(error, ssl.SSLCertVerificationError):
            return MailError(
                f"{where}: TLS certificate not trusted ({error.verify_message})", retriable=False
            )
        if isinstance(error, ssl.SSLError) and not isinstance(error, ssl.SSLEOFError):
            return MailError(f"{where}: TLS failed ({error.reason or error})", retriable=False)
        if isinstance(error, TimeoutError):
            return MailError(f"{where} did not answer within {self.timeout:g} s", retriable=True)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return MailError(f"cannot reach {where}: {self._redact(reason)}", retriable=True)

    def _redact(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}"


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{rcpt} ({_answer(code, text)})" for rcpt, (code, text) in refused.items())

"""Mail through Microsoft Graph as an application (client credentials). The app needs Mail.ReadWrite (create
the draft, read Sent Items) and Mail.Send; scope both to the sending mailbox with RBAC for Applications.

A message goes as MIME: created as a draft in the mailbox (``POST /users/{mailbox}/messages``, base64 MIME
as ``text/plain``), then sent (``POST .../messages/{id}/send``). Unlike ``sendMail`` the draft has an id, and
the Message-ID kept from the MIME lets :meth:`GraphMailer.already_sent` find the message in Sent Items.
Requests go through the shared :class:`~connectors.http.HttpClient` (timeouts, Retry-After honoured,
messages without secrets); tokens come from msal, which caches them until they expire.
"""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.policy import SMTP
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import requests

from connectors.errors import TrackerError, UncertainOutcome
from connectors.http import HttpClient, HttpError
from connectors.http.auth import MsalAuth

from . import ensure_message_id
from .errors import MailError

if TYPE_CHECKING:
    import msal

MAX_REQUEST_BYTES = 4 * 1024 * 1024
"""Graph's limit on one request; a MIME body counts after base64."""
TRANSIENT_TOKEN_ERRORS = frozenset({"temporarily_unavailable", "server_error"})


class _Mime(str):
    """A base64 MIME body: sent as ``text/plain``, not as JSON."""


class GraphMailer:
    """Sends as ``mailbox`` through Microsoft Graph; the client secret is kept out of every message and repr.

    ``http`` is the session for both sign-in and Graph (tests give one trusting their certificate).
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        mailbox: str,
        *,
        authority_url: str = "https://login.microsoftonline.com",
        graph_url: str = "https://graph.microsoft.com/v1.0",
        timeout: float = 30,
        http: requests.Session | None = None,
    ) -> None:
        self.tenant_id, self.client_id, self.mailbox = tenant_id, client_id, mailbox
        self.authority = f"{authority_url.rstrip('/')}/{tenant_id}"
        self._secret, self._timeout = client_secret, timeout
        self._session, self._own_session = http or requests.Session(), http is None
        self._app: msal.ConfidentialClientApplication | None = None
        self._token_error: str | None = None
        parts = urlsplit(graph_url)
        scope = f"{parts.scheme}://{parts.netloc}/.default"
        hint = f"check tenant {tenant_id}, client id {client_id} and its secret"
        self._auth = MsalAuth(self._acquire, [scope], hint)
        self._client = HttpClient(graph_url, self._send, name="Microsoft Graph", secrets=[client_secret],
                                  timeout=(min(10.0, timeout), timeout))  # fmt: skip
        self._user = f"/users/{quote(mailbox, safe='@')}"

    def __repr__(self) -> str:
        return f"GraphMailer(tenant={self.tenant_id}, client={self.client_id}, mailbox={self.mailbox})"

    def send(self, message: EmailMessage) -> None:
        """Create a draft from the MIME and send it; a message over 4 MB is refused before any request."""
        ensure_message_id(message)
        body = base64.b64encode(message.as_bytes(policy=SMTP)).decode("ascii")
        if len(body) > MAX_REQUEST_BYTES:
            raise MailError(
                f"the message is {len(body) / 2**20:.1f} MB ({len(body)} bytes) after base64, over Microsoft "
                f"Graph's 4 MB per request; send less (smaller or fewer attachments)",
                retriable=False,
            )
        draft = self._call("POST", f"{self._user}/messages", "create the draft", body=_Mime(body))
        self._call("POST", f"{self._user}/messages/{quote(draft['id'], safe='')}/send", "send the draft")

    def already_sent(self, message_id: str) -> bool:
        """Whether Sent Items holds a message with this Message-ID (Exchange files it there shortly after
        sending, so ask on a later run rather than right away)."""
        wanted = message_id.strip()
        wanted = (wanted if wanted.startswith("<") else f"<{wanted}>").replace("'", "''")  # OData quoting
        params = {
            "$filter": f"internetMessageId eq '{wanted}'",
            "$select": "id,isDraft,internetMessageId",
        }
        found = self._call("GET", f"{self._user}/mailFolders/SentItems/messages", "look in Sent Items",
                           params=params)  # fmt: skip
        return any(not item.get("isDraft") for item in (found or {}).get("value", []))

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    # --- requests -----------------------------------------------------------------------------------

    def _call(self, method: str, path: str, doing: str, *, body: Any = None,
              params: dict[str, str] | None = None) -> Any:  # fmt: skip
        where = f"Microsoft Graph ({self.mailbox})"
        self._sign_in()
        try:
            return self._client.json(method, path, params=params, body=body)
        except HttpError as error:
            status = error.status
            too_large = " (the message is too large)" if status == 413 else ""
            retriable = status == 429 or status >= 500
            reason = self._redact(_reason(error))
            raise MailError(f"{where} refused to {doing}: {status} {reason}{too_large}",
                            retriable=retriable) from None  # fmt: skip
        except UncertainOutcome as error:
            raise MailError(f"{where}: {error}; check already_sent before sending again",
                            retriable=True) from None  # fmt: skip
        except TrackerError as error:  # waits too long, no answer after retries
            raise MailError(
                f"{where} could not {doing}: {self._redact(str(error))}", retriable=True
            ) from None

    def _send(self, method: str, url: str, *, json: Any = None, headers: dict[str, str] | None = None,
              **kwargs: Any) -> requests.Response:  # fmt: skip
        """The HttpClient's transport: the bearer token on every request, MIME bodies as text."""
        headers = dict(headers or {})
        if isinstance(json, _Mime):
            kwargs["data"], json = json.encode("ascii"), None
            headers["Content-Type"] = "text/plain"
        return self._session.request(method, url, json=json, headers=headers, auth=self._auth, **kwargs)

    # --- sign-in ------------------------------------------------------------------------------------

    def _sign_in(self) -> None:
        """Get (or reuse) the token first, so a sign-in failure is reported as one, not as Graph's."""
        where = f"Microsoft sign-in at {self.authority} for client {self.client_id}"
        try:
            self._auth.token()
        except TrackerError as error:
            retriable = self._token_error in TRANSIENT_TOKEN_ERRORS
            raise MailError(f"{where} failed: {self._redact(str(error))}", retriable=retriable) from None
        except ValueError as error:  # msal: the authority or tenant is unknown
            raise MailError(f"{where} failed: {self._redact(str(error))}", retriable=False) from None
        except requests.exceptions.SSLError:
            raise MailError(f"{where} failed: TLS certificate not trusted", retriable=False) from None
        except requests.RequestException as error:
            raise MailError(
                f"{where} could not be reached ({type(error).__name__})", retriable=True
            ) from None

    def _acquire(self, scopes: list[str]) -> dict[str, Any] | None:
        if self._app is None:
            import msal

            self._app = msal.ConfidentialClientApplication(
                self.client_id, client_credential=self._secret, authority=self.authority,
                http_client=self._session, timeout=self._timeout, instance_discovery=False,
            )  # fmt: skip
        answer = self._app.acquire_token_for_client(scopes=scopes)
        self._token_error = (answer or {}).get("error")
        return answer

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _reason(error: HttpError) -> str:
    """Graph's ``{"error": {"code", "message"}}`` as words, else the client's message."""
    detail = error.details.get("error") if isinstance(error.details, dict) else None
    if isinstance(detail, dict) and detail.get("code"):
        return f"{detail['code']}: {detail.get('message') or ''}".rstrip(": ")
    return error.message

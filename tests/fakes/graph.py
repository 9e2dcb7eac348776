"""A fake Microsoft identity platform (client credentials only) and the Microsoft Graph mail routes a mailer
uses, on the fake-server kit, as strict as the real ones where it matters: bearer tokens checked (401),
application permissions and mailbox scoping (403 ErrorAccessDenied), unknown mailboxes (404), requests
over 4 MB (413), malformed MIME (400); faults and rate limits (429 with Retry-After) come from the kit.

Served over TLS when given a server ``ssl.SSLContext``: msal accepts only https authorities::

    with FakeGraph(tls=server_context) as graph:
        graph.add_app("client-1", "s3cret")
        graph.add_mailbox("digest@contoso.example")
        ...  # authority_url=graph.url, graph_url=graph.url + "/v1.0"
        graph.sent("digest@contoso.example")  # the sent messages, parsed back from their MIME
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import itertools
import re
import secrets
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from .entra import EntraTenant, token_error, token_form
from .kit import ApiError, Call, Clock, FakeServer, Reply

MAX_REQUEST_BYTES = 4 * 1024 * 1024
ALL_ROLES = frozenset({"Mail.Send", "Mail.ReadWrite"})
READ_ROLES = frozenset({"Mail.Read", "Mail.ReadBasic", "Mail.ReadWrite"})
USER = "/v1.0/users/{mailbox}"
UNKNOWN_APP = "AADSTS700016: Application with identifier '{}' was not found in the directory '{}'."
WRONG_SECRET = (
    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
    "client secret value, not the client secret ID, for a secret added to app '{}'."
)
BAD_SCOPE = (
    "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope "
    "value with /.default suffixed to the resource identifier."
)
BAD_FILTER = (
    "The query filter contains one or more invalid nodes (the fake knows internetMessageId eq '...')."
)
_FILTER = re.compile(r"^internetMessageId eq '((?:[^']|'')*)'$")


def graph_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> ApiError:
    """An error in Graph's shape: ``{"error": {"code", "message", "innerError"}}``."""
    inner = {"request-id": secrets.token_hex(8), "date": "2027-01-04T09:00:00"}
    return ApiError(status, {"error": {"code": code, "message": message, "innerError": inner}}, headers)



@dataclass
class App:
    """An app registration: its secret, the application permissions granted, the mailboxes it may reach
    (None: all, as Mail.Send does unless scoped with RBAC for Applications)."""

    client_id: str
    secret: str
    roles: set[str] = field(default_factory=lambda: set(ALL_ROLES))
    mailboxes: set[str] | None = None


@dataclass
class Message:
    id: str
    mailbox: str
    folder: str  # "drafts" or "sentitems"
    mime: bytes
    internet_message_id: str
    created: datetime
    sent: datetime | None = None

    @property
    def email(self) -> EmailMessage:
        return email.message_from_bytes(self.mime, policy=email.policy.default)  # type: ignore[return-value]

    def resource(self, select: list[str] | None = None) -> dict[str, Any]:
        parsed = self.email
        recipients = [{"emailAddress": {"name": name, "address": address}}
                      for name, address in getaddresses(parsed.get_all("To", []))]  # fmt: skip
        full = {
            "id": self.id,
            "createdDateTime": self.created.isoformat().replace("+00:00", "Z"),
            "sentDateTime": self.sent.isoformat().replace("+00:00", "Z") if self.sent else None,
            "subject": str(parsed["Subject"] or ""),
            "internetMessageId": self.internet_message_id,
            "isDraft": self.folder == "drafts",
            "parentFolderId": self.folder,
            "toRecipients": recipients,
        }
        return {k: v for k, v in full.items() if not select or k in select or k == "id"}


class FakeGraph(EntraTenant, FakeServer):
    """The identity platform's token endpoint for ``tenant`` and Graph's mail routes, on one server."""

    def __init__(self, *, tenant: str = "contoso", tls: ssl.SSLContext | None = None,
                 clock: Clock | None = None) -> None:  # fmt: skip
        super().__init__(clock=clock, tls=tls)
        self.tenant = tenant
        self.apps: dict[str, App] = {}
        self.mailboxes: set[str] = set()
        self.messages: dict[str, Message] = {}
        self.tokens: dict[str, tuple[str, datetime]] = {}  # token: (client id, expiry)
        self.token_lifetime = timedelta(hours=1)
        self._ids = itertools.count(1)
        login = "/{tenant}"
        self.route("GET", login + "/v2.0/.well-known/openid-configuration", self._openid, public=True)
        self.route("POST", login + "/oauth2/v2.0/token", self._token, public=True)
        self.route("POST", USER + "/messages", self._create)
        self.route("GET", USER + "/messages/{id}", self._get)
        self.route("POST", USER + "/messages/{id}/send", self._send)
        self.route("GET", USER + "/mailFolders/{folder}/messages", self._list)
        self.route("POST", USER + "/sendMail", self._send_mail)

    # -- set-up and inspection ---------------------------------------------------------------------------
    def add_app(self, client_id: str, secret: str, *, roles: set[str] | None = None,
                mailboxes: set[str] | None = None) -> App:  # fmt: skip
        with self.lock:
            app = App(client_id, secret, set(ALL_ROLES if roles is None else roles),
                      None if mailboxes is None else {m.lower() for m in mailboxes})  # fmt: skip
            self.apps[client_id] = app
            return app

    def add_mailbox(self, address: str) -> None:
        with self.lock:
            self.mailboxes.add(address.lower())

    def sent(self, mailbox: str) -> list[EmailMessage]:
        """The messages in the mailbox's Sent Items, parsed back from their MIME, oldest first."""
        with self.lock:
            return [m.email for m in self.messages.values()
                    if m.mailbox == mailbox.lower() and m.folder == "sentitems"]  # fmt: skip

    def drafts(self, mailbox: str) -> list[Message]:
        with self.lock:
            return [
                m for m in self.messages.values() if m.mailbox == mailbox.lower() and m.folder == "drafts"
            ]

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = {t: (c, self.clock() - timedelta(seconds=1)) for t, (c, _) in self.tokens.items()}

    # -- the kit's hooks ---------------------------------------------------------------------------------
    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"code": "BadRequest" if status == 400 else f"Http{status}", "message": message}}

    def _dispatch(self, call: Call, problem: str | None) -> Reply:
        """MIME and form bodies are text, not JSON; anything over 4 MB is refused before it is read."""
        if int(call.header("Content-Length") or 0) > MAX_REQUEST_BYTES:
            message = f"The request is larger than the {MAX_REQUEST_BYTES} bytes allowed."
            return graph_error(413, "RequestEntityTooLarge", message).reply
        kind = (call.header("Content-Type") or "").split(";")[0].strip().lower()
        return super()._dispatch(call, problem if kind in ("", "application/json") else None)

    def authorize(self, call: Call) -> None:
        token = call.credentials("Bearer")
        if not token:
            raise graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        client_id, expiry = self.tokens.get(token, ("", None))
        if expiry is None:
            raise graph_error(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
        if expiry <= self.clock():
            raise graph_error(
                401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
            )
        mailbox = call.params["mailbox"].lower()
        if mailbox not in self.mailboxes:
            raise graph_error(
                404, "ErrorInvalidUser", f"The requested user '{call.params['mailbox']}' is invalid."
            )
        app = self.apps[client_id]
        needed = _needed_roles(call)
        if not needed & app.roles or (app.mailboxes is not None and mailbox not in app.mailboxes):
            raise graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")

    # -- the identity platform ---------------------------------------------------------------------------
    def _token(self, call: Call) -> Reply:
        form = token_form(call)
        for record in reversed(self.requests):  # keep the secret out of the recorded requests
            if record.body is call.body and "client_secret" in form:
                record.body = {k: ("***" if k == "client_secret" else v) for k, v in form.items()}
                break
        self._check_tenant(call)
        if form.get("grant_type") != "client_credentials":
            raise token_error(
                400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
            )
        app = self.apps.get(form.get("client_id", ""))
        if app is None:
            message = UNKNOWN_APP.format(form.get("client_id"), self.tenant)
            raise token_error(400, "unauthorized_client", message)
        if not secrets.compare_digest(form.get("client_secret", ""), app.secret):
            raise token_error(401, "invalid_client", WRONG_SECRET.format(app.client_id))
        if not form.get("scope", "").endswith("/.default"):
            raise token_error(400, "invalid_scope", BAD_SCOPE)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = (app.client_id, self.clock() + self.token_lifetime)
        seconds = int(self.token_lifetime.total_seconds())
        return Reply(200, {"token_type": "Bearer", "expires_in": seconds, "ext_expires_in": seconds,
                           "access_token": token})  # fmt: skip

    # -- Graph -------------------------------------------------------------------------------------------
    def _create(self, call: Call) -> Reply:
        message = self._store(call, "drafts")
        return Reply(201, message.resource())

    def _get(self, call: Call) -> Reply:
        return Reply(200, self._find(call).resource(call.args("$select")))

    def _send(self, call: Call) -> Reply:
        draft = self._find(call)
        if draft.folder != "drafts":
            raise graph_error(400, "ErrorInvalidOperation", "Only draft messages can be sent.")
        _check_recipients(draft.email)
        del self.messages[draft.id]  # moved to Sent Items: a new id there
        self._file(draft.mailbox, draft.mime, draft.internet_message_id, "sentitems", sent=True)
        return Reply(202)

    def _list(self, call: Call) -> Reply:
        folder = call.params["folder"].lower()
        if folder not in ("drafts", "sentitems", "inbox"):
            raise graph_error(404, "ErrorInvalidIdMalformed", "Id is malformed.")
        wanted = None
        if (query := call.arg("$filter")) is not None:
            if (match := _FILTER.match(query.strip())) is None:
                raise graph_error(400, "ErrorInvalidUrlQueryFilter", BAD_FILTER)
            wanted = match[1].replace("''", "'")
        mailbox, select = call.params["mailbox"].lower(), call.args("$select")
        found = [m.resource(select) for m in self.messages.values() if m.mailbox == mailbox
                 and m.folder == folder and wanted in (None, m.internet_message_id)]  # fmt: skip
        return Reply(200, {"value": found})

    def _send_mail(self, call: Call) -> Reply:
        self._store(call, "sentitems", sent=True)
        return Reply(202)

    # -- helpers -----------------------------------------------------------------------------------------
    def _store(self, call: Call, folder: str, *, sent: bool = False) -> Message:
        """The MIME of a ``text/plain`` body (base64) filed in ``folder``; JSON bodies are not faked."""
        kind = (call.header("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "text/plain":
            raise graph_error(400, "ErrorInvalidRequest", "This fake takes MIME (text/plain) bodies only.")
        try:
            mime = base64.b64decode(str(call.body or "").strip(), validate=True)
        except (binascii.Error, ValueError):
            raise graph_error(400, "ErrorMimeContentInvalidBase64String",
                              "Invalid base64 string for MIME content.") from None  # fmt: skip
        parsed = email.message_from_bytes(mime, policy=email.policy.default)
        if not mime.strip() or parsed.defects or not parsed.keys():
            raise graph_error(400, "ErrorMimeContentInvalid", "The MIME content is not valid.")
        if sent:
            _check_recipients(parsed)  # type: ignore[arg-type]
        message_id = str(parsed["Message-ID"] or f"<{secrets.token_hex(12)}@fake.outlook.example>").strip()
        mailbox = call.params["mailbox"].lower()
        return self._file(mailbox, mime, message_id, folder, sent=sent)

    def _file(self, mailbox: str, mime: bytes, message_id: str, folder: str, *, sent: bool) -> Message:
        now = self.clock()
        item_id = f"AAMkAD{next(self._ids):06d}{secrets.token_hex(6)}="
        item = Message(item_id, mailbox, folder, mime, message_id, now, now if sent else None)
        self.messages[item.id] = item
        return item

    def _find(self, call: Call) -> Message:
        found = self.messages.get(call.params["id"])
        if found is None or found.mailbox != call.params["mailbox"].lower():
            raise graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return found


def _needed_roles(call: Call) -> frozenset[str]:
    """Any one of these application permissions lets the call through (Graph's permission tables)."""
    if call.path.endswith(("/send", "/sendMail")):
        return frozenset({"Mail.Send"})
    return READ_ROLES if call.method == "GET" else frozenset({"Mail.ReadWrite"})


def _check_recipients(message: EmailMessage) -> None:
    if not any(message.get_all(h) for h in ("To", "Cc", "Bcc")):
        raise graph_error(400, "ErrorInvalidRecipients", "At least one recipient is not valid., A message "
                          "can't be sent because it contains no recipients.")  # fmt: skip

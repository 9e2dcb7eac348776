"""Mailers: SMTP against a real aiosmtpd server on loopback (plain, STARTTLS, implicit TLS with a trustme
certificate, AUTH), Microsoft Graph against the fake identity platform and Graph (tests/fakes/graph.py)."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import pytest
import requests
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from iso20k_sync.mail import Mailer, MailError
from iso20k_sync.mail.graph import GraphMailer
from iso20k_sync.mail.smtp import SmtpMailer

from .fakes.graph import FakeGraph

PASSWORD = "pw-Hunter2-smtp"
SECRET = "sec~Graph.Client-Secret-42"
MAILBOX = "digest@contoso.example"
S1, S2 = "sponsor1@contoso.example", "sponsor2@contoso.example"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


# --- shared ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def digest(subject: str = "Weekly status — ISO 20000 ✓", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "ISO sync <digest@contoso.example>"
    message["To"] = "Sponsor One <sponsor1@contoso.example>, sponsor2@contoso.example"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Schedule: on track.\nBudget: 92 % spent.\n")
    message.add_alternative("<p>Schedule: <b>on track</b></p><img src='cid:chart'>", subtype="html")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="chart.png")
    return message


def assert_same(received: EmailMessage, sent: EmailMessage) -> None:
    for header in ("From", "To", "Subject", "Message-ID"):
        assert str(received[header]) == str(sent[header])
    body = received.get_body(("plain",))  # the wire has CRLF line ends
    assert (
        body is not None
        and body.get_content().replace("\r\n", "\n") == "Schedule: on track.\nBudget: 92 % spent.\n"
    )
    html = received.get_body(("html",))
    assert html is not None and "<b>on track</b>" in html.get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "chart.png" and attachment.get_content() == PNG


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- SMTP --------------------------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler keeping what arrived; ``rcpt_answers`` and ``data_answer`` shape refusals."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.tls: list[bool] = []
        self.rcpt_answers: dict[str, str] = {}
        self.data_answer = "250 OK"

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:  # fmt: skip
        answer = self.rcpt_answers.get(address, "250 OK")
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.data_answer.startswith("250"):
            self.envelopes.append(envelope)
            self.tls.append(session.ssl is not None)
        return self.data_answer

    def messages(self) -> list[EmailMessage]:
        parse = email.message_from_bytes
        return [parse(e.content, policy=email.policy.default) for e in self.envelopes]  # type: ignore[misc]


def check_login(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    login = (auth_data.login, auth_data.password) if isinstance(auth_data, LoginPassword) else None
    ok = login == (b"digest", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


STARTTLS_LOGIN: dict[str, Any] = {
    "require_starttls": True,
    "authenticator": check_login,
    "auth_required": True,
}


@contextmanager
def smtpd(**options: Any) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_plain_to_loopback_arrives_intact_with_bcc_kept_out_of_the_headers():
    with smtpd() as (inbox, port):
        mailer: Mailer = SmtpMailer("127.0.0.1", port, "none", None, None, timeout=5)
        message = digest(Bcc="auditor@contoso.example")
        mailer.send(message)
        mailer.close()
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "digest@contoso.example"
    assert sorted(envelope.rcpt_tos) == ["auditor@contoso.example", "sponsor1@contoso.example",
                                         "sponsor2@contoso.example"]  # fmt: skip
    [received] = inbox.messages()
    assert_same(received, message)
    assert received["Bcc"] is None
    assert mailer.already_sent(str(message["Message-ID"])) is None


def test_a_message_without_message_id_gets_one():
    with smtpd() as (inbox, port):
        message = digest()
        del message["Message-ID"]
        SmtpMailer("localhost", port, "none", None, None, timeout=5).send(message)
    assert str(message["Message-ID"]).endswith("@contoso.example>")
    assert inbox.messages()[0]["Message-ID"] == message["Message-ID"]


def test_starttls_with_login(server_tls, client_tls):
    with smtpd(tls_context=server_tls, **STARTTLS_LOGIN) as (inbox, port):
        mailer = SmtpMailer("127.0.0.1", port, "starttls", "digest", PASSWORD, ssl_context=client_tls)
        message = digest()
        mailer.send(message)
    assert inbox.tls == [True]
    assert_same(inbox.messages()[0], message)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_login(server_tls, client_tls):
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; this connection is TLS from the start.
    login = {**STARTTLS_LOGIN, "require_starttls": False, "auth_require_tls": False}
    with smtpd(ssl_context=server_tls, **login) as (inbox, port):
        mailer = SmtpMailer("localhost", port, "tls", "digest", PASSWORD, ssl_context=client_tls)
        message = digest()
        mailer.send(message)
    assert_same(inbox.messages()[0], message)


def test_starttls_is_required_when_asked_for(client_tls):
    with smtpd() as (inbox, port):  # offers no STARTTLS
        mailer = SmtpMailer("127.0.0.1", port, "starttls", "digest", PASSWORD, ssl_context=client_tls)
        with pytest.raises(MailError, match="does not offer STARTTLS") as caught:
            mailer.send(digest())
    assert not caught.value.retriable and inbox.envelopes == []


def test_an_untrusted_certificate_is_refused(server_tls):
    with smtpd(tls_context=server_tls) as (inbox, port):
        mailer = SmtpMailer("127.0.0.1", port, "starttls", None, None, timeout=5)  # system trust store only
        with pytest.raises(MailError, match="certificate not trusted") as caught:
            mailer.send(digest())
    assert not caught.value.retriable and inbox.envelopes == []


def test_a_wrong_password_is_not_retriable_and_never_shown(server_tls, client_tls, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-" + PASSWORD
    with smtpd(tls_context=server_tls, **STARTTLS_LOGIN) as (inbox, port):
        mailer = SmtpMailer("127.0.0.1", port, "starttls", "digest", wrong, timeout=5, ssl_context=client_tls)
        with pytest.raises(MailError) as caught:
            mailer.send(digest())
    error = caught.value
    assert not error.retriable and f"127.0.0.1:{port}" in str(error) and "535" in str(error)
    assert wrong not in str(error) and wrong not in repr(mailer) and wrong not in caplog.text
    assert error.__cause__ is None and error.__suppress_context__
    assert inbox.envelopes == []


def test_a_server_that_is_down_is_retriable():
    port = free_port()
    with pytest.raises(MailError, match=f"127.0.0.1:{port}") as caught:
        SmtpMailer("127.0.0.1", port, "none", None, None, timeout=5).send(digest())
    assert caught.value.retriable


@pytest.mark.parametrize(
    ("rcpt_answers", "data_answer", "retriable", "words"),
    [
        ({}, "451 4.3.0 Try again later", True, "451"),
        ({S1: "550 5.1.1 No such user", S2: "550 5.1.1 No such user"}, "250 OK", False, "550 5.1.1"),
        ({S1: "450 4.2.1 Mailbox busy", S2: "452 4.5.3 Too many recipients"}, "250 OK", True, "450"),
        # One took it: sending again would mail that sponsor twice.
        ({S2: "450 4.2.1 Mailbox busy"}, "250 OK", False, "sent the message but refused"),
    ],
)
def test_refusals_are_retriable_only_when_temporary(rcpt_answers, data_answer, retriable, words):
    with smtpd() as (inbox, port):
        inbox.rcpt_answers, inbox.data_answer = rcpt_answers, data_answer
        with pytest.raises(MailError, match=words) as caught:
            SmtpMailer("127.0.0.1", port, "none", None, None, timeout=5).send(digest())
    assert caught.value.retriable is retriable


def test_a_message_too_large_is_not_retriable():
    with smtpd(data_size_limit=2000) as (inbox, port), pytest.raises(MailError, match="too large") as caught:
        SmtpMailer("127.0.0.1", port, "none", None, None, timeout=5).send(digest())
    assert not caught.value.retriable and inbox.envelopes == []


@pytest.mark.parametrize("host", ["smtp.contoso.example", "10.0.0.5", "0.0.0.0"])
def test_a_plain_connection_is_refused_beyond_loopback(host):
    with pytest.raises(ValueError, match="in clear"):
        SmtpMailer(host, 25, "none", "digest", PASSWORD)
    for loopback in ("localhost", "127.0.0.1", "::1", "127.3.2.1"):
        SmtpMailer(loopback, 25, "none", None, None)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="none, starttls or tls"):
        SmtpMailer("smtp.contoso.example", 587, "ssl", None, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="both or neither"):
        SmtpMailer("smtp.contoso.example", 587, "starttls", "digest", None)


# --- Microsoft Graph ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA) -> Iterator[str]:
    with ca.cert_pem.tempfile() as path:
        yield path


@pytest.fixture
def graph(server_tls) -> Iterator[FakeGraph]:
    with FakeGraph(tls=server_tls) as fake:
        fake.add_app("client-1", SECRET)
        fake.add_mailbox(MAILBOX)
        fake.add_mailbox("ceo@contoso.example")
        yield fake


@pytest.fixture
def session(ca_file) -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.verify, http.trust_env = ca_file, False  # REQUESTS_CA_BUNDLE would override verify
        yield http


def graph_mailer(graph: FakeGraph, session: requests.Session, *, secret: str = SECRET,
                 mailbox: str = MAILBOX) -> GraphMailer:  # fmt: skip
    return GraphMailer("contoso", "client-1", secret, mailbox, authority_url=graph.url,
                       graph_url=f"{graph.url}/v1.0", timeout=5, http=session)  # fmt: skip


def test_graph_sends_through_a_draft_and_the_message_reads_back(graph, session):
    mailer: Mailer = graph_mailer(graph, session)
    message = digest()
    mailer.send(message)
    [received] = graph.sent(MAILBOX)
    assert_same(received, message)
    assert graph.drafts(MAILBOX) == []
    [create] = graph.requests_to(f"/users/{MAILBOX}/messages", "POST")[:1]
    assert create.headers["Content-Type"] == "text/plain"
    assert [r.status for r in graph.requests if "/v1.0/" in r.path] == [201, 202]


def test_already_sent_looks_in_sent_items(graph, session):
    mailer = graph_mailer(graph, session)
    message = digest()
    del message["Message-ID"]
    mailer.send(message)
    other = digest(Message_ID="<never-sent.1@contoso.example>")
    assert mailer.already_sent(str(message["Message-ID"])) is True
    assert mailer.already_sent(str(message["Message-ID"]).strip("<>")) is True
    assert mailer.already_sent(str(other["Message-ID"])) is False
    assert mailer.already_sent("<it's@contoso.example>") is False  # a quote in the id is escaped
    [lookup] = graph.requests_to("/mailFolders/SentItems/messages", "GET")[:1]
    assert lookup.query["$filter"] == [f"internetMessageId eq '{message['Message-ID']}'"]


def test_a_draft_is_not_counted_as_sent(graph, session):
    mailer = graph_mailer(graph, session)
    message = digest(Message_ID="<draft.1@contoso.example>")
    graph.fail_next(500, path="/send")  # the draft exists, the send fails
    with pytest.raises(MailError, match="500") as caught:
        mailer.send(message)
    assert caught.value.retriable
    assert len(graph.drafts(MAILBOX)) == 1 and mailer.already_sent("<draft.1@contoso.example>") is False


def test_graph_honours_retry_after_then_succeeds(graph, session):
    graph.fail_next(429, retry_after=1, path="/messages", method="POST")
    graph_mailer(graph, session).send(digest())
    first, second = graph.requests_to(f"/users/{MAILBOX}/messages", "POST")[:2]
    assert (first.status, second.status) == (429, 201)
    assert second.time - first.time >= 1.0
    assert len(graph.sent(MAILBOX)) == 1


def test_graph_throttling_that_lasts_is_retriable(graph, session):
    graph.fail_next(503, retry_after=0, count=10, path="/messages", method="POST")
    with pytest.raises(MailError, match="503") as caught:
        graph_mailer(graph, session).send(digest())
    assert caught.value.retriable and graph.sent(MAILBOX) == []


def test_a_wrong_secret_is_not_retriable_and_never_shown(graph, session, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong~" + SECRET
    mailer = graph_mailer(graph, session, secret=wrong)
    with pytest.raises(MailError, match="AADSTS7000215") as caught:
        mailer.send(digest())
    error = caught.value
    assert not error.retriable
    assert wrong not in str(error) and wrong not in repr(mailer) and wrong not in caplog.text
    assert wrong not in repr(graph.requests)
    assert error.__cause__ is None and error.__suppress_context__
    assert graph.requests_to("/v1.0/") == []  # no Graph request without a token


@pytest.mark.parametrize(
    ("roles", "mailboxes"),
    [
        ({"Mail.Send"}, None),  # sendMail needs only Mail.Send; a draft needs Mail.ReadWrite too
        (None, {"ceo@contoso.example"}),  # scoped (RBAC for Applications) to another mailbox
    ],
)
def test_an_app_without_access_to_the_mailbox_is_refused(graph, session, roles, mailboxes):
    graph.add_app("client-1", SECRET, roles=roles, mailboxes=mailboxes)
    with pytest.raises(MailError, match="403 ErrorAccessDenied") as caught:
        graph_mailer(graph, session).send(digest())
    assert not caught.value.retriable and graph.sent(MAILBOX) == []


def test_a_message_over_4_mb_is_refused_before_any_request(graph, session):
    message = digest()
    message.add_attachment(
        bytes(3 * 2**20), maintype="application", subtype="octet-stream", filename="big.bin"
    )
    with pytest.raises(MailError, match=r"\d\.\d MB .* over Microsoft Graph's 4 MB") as caught:
        graph_mailer(graph, session).send(message)
    assert not caught.value.retriable and graph.requests == []


def test_the_fake_refuses_what_graph_refuses(graph, session):
    form = {"grant_type": "client_credentials", "client_id": "client-1", "client_secret": SECRET}
    answer = session.post(f"{graph.url}/contoso/oauth2/v2.0/token", data={**form, "scope": "Mail.Send"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope"
    token = session.post(
        f"{graph.url}/contoso/oauth2/v2.0/token", data={**form, "scope": f"{graph.url}/.default"}
    )
    token = token.json()["access_token"]
    messages = f"{graph.url}/v1.0/users/{MAILBOX}/messages"

    def post(body: bytes | str, bearer: str = token) -> requests.Response:
        headers = {"Content-Type": "text/plain", "Authorization": f"Bearer {bearer}"}
        return session.post(messages, data=body, headers=headers)

    assert post("", bearer="").status_code == 401
    assert post("", bearer="forged").json()["error"]["code"] == "InvalidAuthenticationToken"
    assert post("not base64!").json()["error"]["message"] == "Invalid base64 string for MIME content."
    assert post(b"A" * (4 * 2**20 + 4)).status_code == 413
    graph.expire_tokens()
    assert "expired" in post("").json()["error"]["message"]

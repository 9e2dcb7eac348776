"""The mail transport the configuration names (SMTP or Microsoft Graph), with its secret."""

from __future__ import annotations

from ..config import ServiceConfig
from ..errors import InputError, InputProblem
from ..mail import Mailer


def mailer_for(config: ServiceConfig) -> Mailer:
    mail = config.mail
    if mail is None:
        raise InputError(
            "mail", [InputProblem((), "no mail section in the configuration: digests cannot be sent")]
        )
    secret = config.mail_secret()
    if mail.smtp is not None:
        from ..mail.smtp import SmtpMailer

        smtp = mail.smtp
        password = secret if smtp.username else None
        return SmtpMailer(smtp.host, smtp.port, smtp.security, smtp.username, password)
    from ..mail.graph import GraphMailer

    assert mail.graph is not None and secret is not None
    graph = mail.graph
    return GraphMailer(graph.tenant_id, graph.client_id, secret, graph.mailbox)

"""The sponsors' weekly digest: what it says (from the stored statuses), and sending it exactly once per
plan, ISO week and recipient through the outbox.

Exactly once: each recipient's row in the outbox (unique on plan, week and recipient) is written before
anything is sent, with a deterministic Message-ID; it is marked ``sending`` just before the message is
handed to the server and ``sent`` once the server accepted it. A run that finds a row still ``sending``
(the process died in between) asks the transport whether that Message-ID went out: Graph can tell, and
the row is settled either way; SMTP cannot, and the row is marked ``unconfirmed`` and never sent again
that week (at most once wins over at least once: a sponsor never gets the digest twice). A mail outage
(a retriable error) leaves the row ``pending``: the run fails, is retried with backoff, and the digest
goes out once when the server is back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from ..config import PlanConfig, ServiceConfig
from ..digest.message import build_message
from ..digest.render import DigestInput, RenderedDigest, render_digest
from ..errors import InputError, InputProblem
from ..files import write_atomically
from ..mail import Mailer
from ..mail.errors import MailError
from ..store import Store, plan_lock
from ..store.repository import now
from ..store.schema import OutboxRow
from .plans import seeded_plan

CERTIFICATE = "certificate-issued"
"""The bundled template's certificate milestone; other templates' digests show no certificate line."""
Outcome = Literal["sent", "already sent", "unconfirmed", "failed", "would send"]


@dataclass
class DigestReport:
    plan: str
    week: str
    subject: str
    recipients: dict[str, Outcome] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    retry: bool = False  # a retriable failure: the run should be tried again


def week_days(week: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week such as 2027-W05; an InputError for anything else."""
    try:
        monday = datetime.strptime(f"{week}-1", "%G-W%V-%u").date()
    except ValueError:
        raise InputError("--week", [InputProblem((), f"{week!r} is not an ISO week like 2027-W05")]) from None
    return monday, monday + timedelta(days=6)


def message_id(plan_key: str, week: str, recipient: str, sender: str, resend: int = 0) -> str:
    """The same id for the same plan, week and recipient, so a retry is recognisable as the same mail."""
    name = f"{plan_key}/{week}/{recipient.lower()}" + (f"/resend-{resend}" if resend else "")
    domain = sender.rpartition("@")[2] or "iso20k-sync.invalid"
    return f"<{uuid.uuid5(uuid.NAMESPACE_URL, 'iso20k-sync:' + name)}@{domain}>"


def render(config: ServiceConfig, plan_config: PlanConfig, store: Store, week: str) -> RenderedDigest:
    """The plan's digest for ``week`` from the newest status computed by the end of that week; the
    outages it names are the syncs that failed since the last digest went out (or in the last week)."""
    _, sunday = week_days(week)
    with store.transaction() as repo:
        row, baseline = seeded_plan(repo, plan_config)
        status = repo.status_as_of(row.id, sunday)
        previous = repo.status_as_of(row.id, sunday - timedelta(days=7))
        since = repo.last_digest_sent(row.id) or now() - timedelta(days=7)
        outages = [
            f"sync of {run.started_at:%Y-%m-%d %H:%M} UTC {run.outcome}: {run.error or 'no reason recorded'}"
            for run in repo.runs(row.id, limit=50)
            if run.kind == "sync" and run.outcome in ("failed", "abandoned") and run.started_at >= since
        ]
    if status is None:
        raise InputError(
            "digest",
            [InputProblem((), f"no status of {plan_config.name!r} by {sunday}: run `iso20k-sync sync`")],
        )
    certificate = CERTIFICATE if any(t.id == CERTIFICATE for t in baseline.tasks) else None
    return render_digest(
        DigestInput(
            plan_name=plan_config.name,
            plan_key=plan_config.plan_key,
            week=week,
            status=status,
            previous=previous,
            baseline=baseline,
            certificate_milestone=certificate,
            budget_limit=_budget_limit(config, plan_config),
            outages=outages,
            tracker_location=config.tracker_location(plan_config),
        )
    )


def preview(
    config: ServiceConfig, plan_config: PlanConfig, store: Store, week: str, directory: Path
) -> tuple[Path, Path]:
    """Write ``<plan>-<week>.html`` (images beside it) and ``.eml`` (to the first recipient) into
    ``directory`` without sending."""
    rendered = render(config, plan_config, store, week)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{plan_config.name}-{week}"
    html = rendered.html
    for cid, png in rendered.images.items():
        image = f"{stem}-{cid.split('@')[0]}.png"
        write_atomically(directory / image, png)
        html = html.replace(f"cid:{cid}", image)
    write_atomically(directory / f"{stem}.html", html.encode("utf-8"))
    sender = config.mail.sender if config.mail else "iso20k-sync@localhost"
    recipient = next(iter(plan_config.digest.recipients), "sponsor@example.invalid")
    message = build_message(
        rendered, sender, recipient, message_id(plan_config.plan_key, week, recipient, sender), now()
    )
    write_atomically(directory / f"{stem}.eml", bytes(message))
    return directory / f"{stem}.html", directory / f"{stem}.eml"


def send(
    config: ServiceConfig,
    plan_config: PlanConfig,
    store: Store,
    week: str,
    mailer: Mailer,
    force: bool = False,
    wait: float = 60.0,
) -> DigestReport:
    """Send the week's digest to each recipient at most once (see the module); ``force`` sends again."""
    assert config.mail is not None
    rendered = render(config, plan_config, store, week)
    report = DigestReport(plan_config.name, week, rendered.subject)
    with plan_lock(store, plan_config.name, "digest", wait):
        with store.transaction() as repo:
            plan_id = repo.plan(plan_config.name).id  # type: ignore[union-attr]  # seeded: render checked
            for recipient in plan_config.digest.recipients:
                ident = message_id(plan_config.plan_key, week, recipient, config.mail.sender)
                repo.add_to_outbox(plan_id, week, recipient, ident)
        plan = (plan_id, plan_config.plan_key)
        for recipient in plan_config.digest.recipients:
            outcome = _deliver(config, store, plan, week, recipient, rendered, mailer, force, report)
            report.recipients[recipient] = outcome
    return report


def _deliver(
    config: ServiceConfig,
    store: Store,
    plan: tuple[int, str],
    week: str,
    recipient: str,
    rendered: RenderedDigest,
    mailer: Mailer,
    force: bool,
    report: DigestReport,
) -> Outcome:
    assert config.mail is not None
    plan_id, plan_key = plan
    with store.transaction() as repo:
        row = repo.outbox(plan_id, week)[recipient]
        if force:
            row.message_id = message_id(plan_key, week, recipient, config.mail.sender, row.attempts + 1)
            row.state = "pending"
        elif row.state == "sent":
            return "already sent"
        elif row.state == "unconfirmed":
            return "unconfirmed"
        elif row.state == "sending":
            went = mailer.already_sent(row.message_id)
            if went is None:  # SMTP cannot tell: never risk a second copy this week
                _settle(row, "unconfirmed", "the process stopped while handing the mail to the server")
                return "unconfirmed"
            if went:
                _settle(row, "sent")
                return "already sent"
        elif row.state == "failed" and not force:
            report.errors[recipient] = row.error or "failed earlier"
            return "failed"
        row.state, row.attempts, row.updated_at = "sending", row.attempts + 1, now()
        ident = row.message_id
    message: EmailMessage = build_message(rendered, config.mail.sender, recipient, ident, now())
    try:
        mailer.send(message)
    except MailError as exc:
        with store.transaction() as repo:
            row = repo.outbox(plan_id, week)[recipient]
            _settle(row, "pending" if exc.retriable else "failed", str(exc))
        report.errors[recipient] = str(exc)
        report.retry |= exc.retriable
        return "failed"
    with store.transaction() as repo:
        _settle(repo.outbox(plan_id, week)[recipient], "sent")
    return "sent"


def _settle(row: OutboxRow, state: str, error: str | None = None) -> None:
    row.state, row.error, row.updated_at = state, error, now()
    if state == "sent":
        row.sent_at = now()


def _budget_limit(config: ServiceConfig, plan_config: PlanConfig) -> Decimal | None:
    if plan_config.organisation is None:
        return None
    from ..feasibility import load_profile

    path = plan_config.organisation
    path = path if path.is_absolute() else config.base_dir / path
    return load_profile(path).budget_limit

"""The service's commands: ``serve`` (the scheduled daily sync and weekly digest) and ``digest``
(preview or send one plan's digest now)."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from ..engine import digest as digests
from ..errors import InputError, InputProblem
from ..service.schedule import iso_week
from .common import EXIT_FAILED, ReportFormat, err, out, reports_errors
from .configured import ConfigOption, FormatOption, PlanOption, load, open_store, today


@reports_errors
def serve_command(config_option: ConfigOption = None) -> None:
    """Run the service until SIGTERM or SIGINT: every plan synced daily, each digest sent weekly."""
    from ..service.http import start_http
    from ..service.runner import Service

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load(config_option)
    if config.mail is not None:
        config.mail_secret()  # a missing secret stops the start, not the first Monday
    store = open_store(config)
    service = Service(config, store)
    stop = threading.Event()
    for received in (signal.SIGTERM, signal.SIGINT):
        signal.signal(received, lambda *_: stop.set())
    http = start_http(config.service.http.host, config.service.http.port, service.ready)
    logging.getLogger("iso20k_sync.service").info(
        "serving %d plan(s); health, readiness and metrics on http://%s:%d",
        len(config.plans),
        config.service.http.host,
        http.server_port,
    )
    try:
        service.serve(stop)
    finally:
        http.shutdown()
        store.dispose()


@reports_errors
def digest_command(
    config_option: ConfigOption = None,
    plan: PlanOption = None,
    preview: Annotated[
        Path | None, typer.Option("--preview", metavar="DIR", help="Write <plan>-<week>.html and .eml here.")
    ] = None,
    send: Annotated[bool, typer.Option("--send", metavar="", help="Send now (once per recipient).")] = False,
    force: Annotated[
        bool, typer.Option("--force", metavar="", help="With --send: send again to those who had it.")
    ] = False,
    week: Annotated[
        str | None, typer.Option("--week", metavar="YYYY-Www", help="ISO week (default: this week).")
    ] = None,
    fmt: FormatOption = ReportFormat.table,
) -> None:
    """Preview or send a plan's weekly digest to its sponsors; each gets a week's digest once."""
    if (preview is None) == (not send):
        raise InputError("digest", [InputProblem((), "give --preview DIR or --send (one of them)")])
    if force and not send:
        raise InputError("--force", [InputProblem((), "only with --send")])
    config = load(config_option)
    plan_config = config.plan(plan)
    chosen = week or iso_week(today(plan_config))
    digests.week_days(chosen)
    store = open_store(config)
    result: dict[str, Any] = {"plan": plan_config.name, "week": chosen}
    if preview is not None:
        html, eml = digests.preview(config, plan_config, store, chosen, preview)
        result |= {"preview": [str(html), str(eml)], "recipients": plan_config.digest.recipients}
        if fmt is ReportFormat.json:
            print(json.dumps(result, indent=2))
        else:
            out.print(f"wrote {html} and {eml}", highlight=False)
        return
    from ..engine.mailers import mailer_for

    if not plan_config.digest.recipients:
        raise InputError("digest", [InputProblem((), f"plan {plan_config.name!r} has no digest.recipients")])
    mailer = mailer_for(config)
    try:
        report = digests.send(config, plan_config, store, chosen, mailer, force=force)
    finally:
        mailer.close()
    result |= {"subject": report.subject, "recipients": report.recipients, "errors": report.errors}
    if fmt is ReportFormat.json:
        print(json.dumps(result, indent=2))
    else:
        for recipient, outcome in report.recipients.items():
            problem = report.errors.get(recipient)
            out.print(f"{recipient}: {outcome}" + (f" ({problem})" if problem else ""), highlight=False)
    if report.errors:
        raise typer.Exit(EXIT_FAILED)
    err.print(f"subject: {report.subject}", highlight=False, markup=False)

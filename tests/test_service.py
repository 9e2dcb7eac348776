"""The service end to end: a real store (SQLite, and PostgreSQL when ISO20K_TEST_DATABASE_URL is set), a
real workbook tracker, a real SMTP server (aiosmtpd on loopback), the clock set by the test."""

from __future__ import annotations

import concurrent.futures
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from iso20k_sync.cli import app
from iso20k_sync.config import load_config
from iso20k_sync.service.runner import Service
from iso20k_sync.store import Store

from .store_urls import BACKENDS, store_url
from .test_mail import Inbox, smtpd

runner = CliRunner()
HOSTILE_PLAN = Path(__file__).parent / "contract" / "contract-plan.yaml"
MONDAY = datetime(2027, 1, 18, 9, 0, tzinfo=UTC)  # week 2027-W03; the plan starts 2027-01-04
RECIPIENTS = ["cio@acme.example", "cfo@acme.example"]
CONFIG = """\
data_dir: data
mail:
  sender: iso20k@acme.example
  smtp: {{host: 127.0.0.1, port: {port}, security: none}}
service: {{sync_time: "06:00", concurrency: 2}}
plans:
  - name: acme
    key: acme-2027
    template: {template}
    start: 2027-01-04
    timezone: UTC
    tracker: {{kind: workbook, path: acme.xlsx}}
    digest: {{recipients: {recipients}, weekday: monday, time: "08:00"}}
"""


@pytest.fixture(params=BACKENDS)
def setup(request, tmp_path, monkeypatch) -> Iterator[tuple[Path, Inbox]]:
    with store_url(request.param, tmp_path) as url, smtpd() as (inbox, port):
        monkeypatch.setenv("ISO20K_STORE_URL", url)
        path = tmp_path / "iso20k-sync.yaml"
        path.write_text(CONFIG.format(port=port, template=HOSTILE_PLAN, recipients=json.dumps(RECIPIENTS)))
        assert runner.invoke(app, ["seed", "-c", str(path)]).exit_code == 0
        _progress(tmp_path / "data" / "acme.xlsx", "b")
        first = runner.invoke(app, ["sync", "-c", str(path), "--as-of", "2027-01-11"])
        assert first.exit_code == 0, first.output
        yield path, inbox


def _progress(workbook: Path, *done: str) -> None:
    book = openpyxl.load_workbook(workbook)
    ws = book["Tasks"]
    columns = {cell.value: cell.column for cell in ws[1]}
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, 1).value in done:
            ws.cell(row, columns["Status"]).value = "Done"
            ws.cell(row, columns["Actual cost"]).value = 1900
    book.save(workbook)


def services(path: Path, count: int) -> list[Service]:
    config = load_config(path)
    return [Service(config, Store(config.database_url()), clock=lambda: MONDAY) for _ in range(count)]


def run_ticks(*instances: Service) -> None:
    """One tick of each instance at the same time, then a second (the digest follows the day's sync)."""
    for _ in range(2):
        futures = [f for service in instances for f in service.tick()]
        concurrent.futures.wait(futures)
        for future in futures:
            future.result()


def test_two_instances_and_a_restart_send_each_sponsor_one_digest_and_sync_once(setup):
    path, inbox = setup
    run_ticks(*services(path, 2))
    run_ticks(*services(path, 1))  # a restart: the new instance finds the week's digest done
    messages = inbox.messages()
    assert sorted(m["To"] for m in messages) == sorted(RECIPIENTS)
    assert len({m["Message-ID"] for m in messages}) == 2
    config = load_config(path)
    store = Store(config.database_url())
    with store.transaction() as repo:
        runs = repo.runs(repo.plan("acme").id)
    store.dispose()
    syncs = [r for r in runs if r.kind == "sync"]
    assert [r.outcome for r in syncs] == ["succeeded", "succeeded"]  # the service's, once; the set-up's


def test_the_digest_parses_into_html_text_and_an_inline_chart_with_hostile_names_harmless(setup):
    path, inbox = setup
    _progress(path.parent / "data" / "acme.xlsx", "a", "b")  # "<script>..." done this week
    run_ticks(*services(path, 1))
    message: EmailMessage = inbox.messages()[0]
    assert "acme" in message["Subject"] and "2027-W03" in message["Subject"]
    assert set(message.keys()) >= {"From", "To", "Subject", "Message-ID", "Date"} and "Bcc" not in message
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert images and all(f"cid:{part['Content-ID'].strip('<>')}" in html for part in images)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert not re.search(r"<a [^>]*evil\.example", html)  # a formula's URL is text, not a link
    assert "Line one" in text and "\r\nLine two" not in message["Subject"]


def test_digest_send_twice_sends_once_and_force_sends_again(setup):
    path, inbox = setup
    run_ticks(*services(path, 1))  # today's sync, and the digest
    assert len(inbox.messages()) == 2
    send = ["digest", "-c", str(path), "--send", "--week", "2027-W03"]
    again = runner.invoke(app, [*send, "--format", "json"])
    assert again.exit_code == 0, again.output
    assert set(json.loads(again.stdout)["recipients"].values()) == {"already sent"}
    assert len(inbox.messages()) == 2
    forced = runner.invoke(app, [*send, "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(inbox.messages()) == 4


def test_a_mail_outage_delays_the_digest_and_sends_it_once_when_the_server_is_back(setup):
    path, inbox = setup
    inbox.data_answer = "451 4.3.0 try again later"
    run_ticks(*services(path, 1))
    assert inbox.messages() == []
    inbox.data_answer = "250 OK"
    config = load_config(path)
    store = Store(config.database_url())
    with store.engine.begin() as connection:  # the backoff has passed
        connection.exec_driver_sql("UPDATE job_runs SET retry_at = NULL WHERE job = 'digest'")
    store.dispose()
    run_ticks(*services(path, 1))
    run_ticks(*services(path, 1))
    assert sorted(m["To"] for m in inbox.messages()) == sorted(RECIPIENTS)


def test_preview_writes_html_and_eml_without_sending(setup, tmp_path):
    path, inbox = setup
    result = runner.invoke(
        app, ["digest", "-c", str(path), "--preview", str(tmp_path / "out"), "--week", "2027-W02"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "acme-2027-W02.html").is_file()
    assert (tmp_path / "out" / "acme-2027-W02.eml").is_file()
    assert inbox.messages() == []


def test_serve_answers_health_readiness_and_metrics_and_stops_cleanly_on_sigterm(setup, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from .test_mail import free_port

    path, _ = setup
    port = free_port()
    served = path.read_text().replace("concurrency: 2}", f"concurrency: 2, http: {{port: {port}}}}}")
    assert f"port: {port}" in served
    path.write_text(served)
    process = subprocess.Popen(
        [sys.executable, "-m", "iso20k_sync", "serve", "-c", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = urllib.request.urlopen(f"{base}/readyz", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and process.poll() is None, process.stderr
                time.sleep(0.2)
        assert ready.status == 200 and ready.read() == b"ready\n"
        assert urllib.request.urlopen(f"{base}/healthz", timeout=2).read() == b"ok\n"
        metrics = urllib.request.urlopen(f"{base}/metrics", timeout=2).read().decode()
        assert "iso20k_runs_total" in metrics and "iso20k_digests_total" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "serving 1 plan(s)" in stderr


def test_a_tracker_outage_is_retried_later_and_named_in_the_digest(setup):
    path, inbox = setup
    workbook = path.parent / "data" / "acme.xlsx"
    saved = workbook.read_bytes()
    workbook.write_bytes(b"not a workbook any more")  # the tracker is unusable today
    run_ticks(*services(path, 1))
    [message] = [m for m in inbox.messages() if m["To"] == RECIPIENTS[0]]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "failed" in text and "not a readable Excel workbook" in " ".join(text.split())
    config = load_config(path)
    store = Store(config.database_url())
    with store.engine.connect() as connection:
        state, retry_at = connection.exec_driver_sql(
            "SELECT state, retry_at FROM job_runs WHERE job = 'sync'"
        ).one()
    store.dispose()
    assert state == "failed" and retry_at is not None  # tried again after the backoff
    workbook.write_bytes(saved)

"""The sponsors' weekly digest: content, order, escaping, Outlook-safe HTML and a well-formed MIME message."""

from __future__ import annotations

import email
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default

import pytest

from iso20k_sync.analytics import Expense, PlanStatus, StatusPoint, TaskProgress, plan_status
from iso20k_sync.analytics.forecast import ProgressCalendar, baseline_days
from iso20k_sync.calendar import WorkCalendar
from iso20k_sync.digest import DigestInput, RenderedDigest, build_message, render_digest
from iso20k_sync.instantiate import instantiate
from iso20k_sync.plan import Plan
from iso20k_sync.template import resolve_template

D = Decimal
START = date(2027, 1, 4)
STATUS_DATE = date(2027, 6, 23)  # Wednesday of 2027-W25
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil","x")'
HOSTILE_PLAN = "Acme IT\r\nBcc: x@y"
LATE_TASK = "cb-contract"  # baseline 2027-06-09 to 06-22: held, so overdue
GATE = "cb-contracted"  # baseline 2027-06-22: held, so past due


def bundled(renamed: dict[str, str] | None = None) -> Plan:
    """The bundled plan, with some task names replaced (as a tracker might have them)."""
    plan = instantiate(resolve_template("iso20000-1-2018"), START)
    names = renamed or {}
    tasks = [t.model_copy(update={"name": names[t.id]}) if t.id in names else t for t in plan.tasks]
    return plan.model_copy(update={"tasks": tasks})


def progress(plan: Plan, day: date, lag: int, held: frozenset[str] = frozenset()) -> list[TaskProgress]:
    """Every task as far as its baseline says ``lag`` working days before ``day``, 15 % over its effort;
    the ``held`` tasks (and so whatever waits on them) stay not started."""
    calendar = WorkCalendar(plan.calendar, plan.start)
    days = ProgressCalendar(calendar, day)
    facts = []
    for task in plan.tasks:
        if task.id in held:
            continue
        span = max(task.duration, 1)
        elapsed = min(max(days.cutoff - lag - baseline_days(task).first, 0), span)
        if not elapsed:
            continue
        share = D(elapsed) / span
        spent = {
            role: (effort * share * D("1.15")).quantize(D("0.1")) for role, effort in task.effort.items()
        }
        facts.append(TaskProgress(task_id=task.id, percent_complete=100 * share, time_spent=spent))
    return facts


EXPENSES = [  # the invoices a finance team books: course fees, the standards
    Expense(
        category="materials",
        amount=D(2100),
        currency="USD",
        date=date(2027, 2, 4),
        task_id="purchase-standards",
    ),
    Expense(
        category="training",
        amount=D(8400),
        currency="USD",
        date=date(2027, 3, 16),
        task_id="core-team-training",
    ),
    Expense(
        category="training",
        amount=D(2900),
        currency="USD",
        date=date(2027, 6, 4),
        task_id="internal-auditor-training",
    ),
]


def statuses(plan: Plan, day: date, lag: int, weeks: int = 12) -> tuple[PlanStatus, PlanStatus]:
    """The status at ``day`` with a weekly history, and the one a week earlier."""
    held = frozenset({LATE_TASK, GATE})
    history: list[StatusPoint] = []
    previous = None
    for week in range(weeks, -1, -1):
        when = day - timedelta(weeks=week)
        current = plan_status(plan, progress(plan, when, lag, held), EXPENSES, when, history=history)
        history = current.history
        if week == 1:
            previous = current
    assert previous is not None
    return current, previous


def digest(plan: Plan, status: PlanStatus, previous: PlanStatus | None, **changes: object) -> DigestInput:
    values: dict[str, object] = dict(
        plan_name="ISO/IEC 20000-1 certification – Acme IT",
        plan_key="ACME",
        week="2027-W25",
        status=status,
        previous=previous,
        baseline=plan,
        certificate_milestone="certificate-issued",
        budget_limit=None,
        outages=[],
        tracker_location="https://jira.example.com/projects/ACME",
    )
    values.update(changes)
    return DigestInput(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def scenario() -> tuple[Plan, PlanStatus, PlanStatus]:
    plan = bundled({LATE_TASK: SCRIPT, GATE: FORMULA})
    status, previous = statuses(plan, STATUS_DATE, lag=4)
    return plan, status, previous


@pytest.fixture(scope="module")
def rendered(scenario: tuple[Plan, PlanStatus, PlanStatus]) -> RenderedDigest:
    plan, status, previous = scenario
    return render_digest(
        digest(
            plan,
            status,
            previous,
            plan_name=HOSTILE_PLAN,
            budget_limit=D("400000"),
            outages=[f"Jira unreachable 2027-06-21 09:10-11:40 ({SCRIPT})"],
        )
    )


def parse(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def send(rendered: RenderedDigest) -> EmailMessage:
    sent = datetime(2027, 6, 23, 7, 0, tzinfo=UTC)
    return parse(build_message(rendered, "digest@example.com", "sponsor@example.com", "<w25.acme@x>", sent))


def test_the_message_carries_text_html_and_the_chart_by_content_id(rendered: RenderedDigest) -> None:
    message = send(rendered)
    assert message.get_content_type() == "multipart/alternative"
    text, related = message.get_payload()  # type: ignore[misc]
    assert text.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    html_part, image = related.get_payload()
    assert html_part.get_content_type() == "text/html" and image.get_content_type() == "image/png"
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content()
    assert image.get_content().startswith(b"\x89PNG") and rendered.images == {cid: image.get_content()}
    assert message["Message-ID"] == "<w25.acme@x>"
    assert message["Date"].datetime == datetime(2027, 6, 23, 7, 0, tzinfo=UTC)
    assert text.get_content() == rendered.text


def test_the_subject_is_one_line_with_plan_week_rag_and_reason(
    scenario: tuple[Plan, PlanStatus, PlanStatus], rendered: RenderedDigest
) -> None:
    status = scenario[1]
    assert rendered.subject.startswith(f"Acme IT Bcc: x@y · 2027-W25 · {status.rag.value.upper()}: ")
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert len(rendered.subject) <= 120
    assert "past due" in rendered.subject  # the gate at the head of the reason


def test_hostile_strings_cannot_inject_headers(rendered: RenderedDigest) -> None:
    message = send(rendered)
    assert message["Bcc"] is None and "Bcc" not in message
    assert message["Subject"] == rendered.subject
    with pytest.raises(ValueError):
        build_message(rendered, "a@example.com", "b@example.com\r\nBcc: x@y", "<id@x>", datetime.now(UTC))
    with pytest.raises(ValueError):
        build_message(rendered, "a@example.com\nBcc: x@y", "b@example.com", "<id@x>", datetime.now(UTC))


def test_tracker_strings_arrive_as_text(rendered: RenderedDigest) -> None:
    html = rendered.html
    assert SCRIPT not in html and "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert FORMULA in html  # as text: quotes need no escaping outside attributes
    assert re.findall(r"<a [^>]*?href=\"([^\"]*)\"", html) == ["https://jira.example.com/projects/ACME"]
    assert SCRIPT in rendered.text  # plain text shows it as written


def test_the_html_is_outlook_safe_with_every_style_inline(rendered: RenderedDigest) -> None:
    html = rendered.html.lower()
    for banned in ("<svg", "background-image", "position:", "float:", "<style", "<link", "<script"):
        assert banned not in html, banned
    assert 'class="grid"' in html and 'style="' in html
    # RAG cells: coloured by attribute and inline style
    assert re.search(r'<td[^>]*bgcolor="#c62828"[^>]*style="[^"]*background-color: #c62828', html)
    cells = re.findall(r"<td[^>]*>", html)
    assert all("font-family" in c for c in cells)  # the td rule reached every cell


def test_milestones_are_in_date_order_with_their_figures(
    scenario: tuple[Plan, PlanStatus, PlanStatus], rendered: RenderedDigest
) -> None:
    status = scenario[1]
    table = rendered.html.split(">Milestones</td>")[1].split(">Due in the next")[0]
    rows = re.findall(r'<tr class="milestone"[^>]*>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>', table, re.S)
    expected = sorted(status.milestones, key=lambda m: (m.baseline, m.forecast))
    assert len(rows) == len(expected) == 18
    baselines = [datetime.strptime(day, "%d %b %Y").date() for _, day in rows]
    assert baselines == sorted(baselines) == [m.baseline for m in expected]
    first = rendered.text.index("Gate: go/no-go decision")
    assert first < rendered.text.index("Gate: project kick-off") < rendered.text.index("Gate: Certificate")


def test_the_content_a_sponsor_reads(
    scenario: tuple[Plan, PlanStatus, PlanStatus], rendered: RenderedDigest
) -> None:
    plan, status, previous = scenario
    text = rendered.text
    assert f"STATUS: {status.rag.value.upper()}" in text
    flat = " ".join(text.split())
    assert "Certificate forecast [AMBER]: 15 Feb 2028 (target 9 Feb 2028, 4 working days late;" in flat
    for part in ("Consulting", "Certification", "Training", "Materials and publicity", "Tools and software"):
        assert part in text and part in rendered.html
    assert "Internal effort" in text and "Total" in text
    assert "Jira unreachable 2027-06-21" in text and "Jira unreachable 2027-06-21" in rendered.html
    assert "https://jira.example.com/projects/ACME" in text
    assert 'href="https://jira.example.com/projects/ACME"' in rendered.html
    # completed this week: done now and not a week ago
    done_now = {
        t.id for t in (*previous.attention.late, *previous.attention.due, *previous.attention.in_progress)
    }
    done_now -= {t.id for t in (*status.attention.late, *status.attention.due, *status.attention.in_progress)}
    assert done_now
    completed = text.split("COMPLETED THIS WEEK")[1].split("OVERDUE")[0]
    for task in plan.tasks:
        if task.id in done_now:
            assert task.name[:30] in completed
    overdue = text.split("\nOVERDUE")[1].split("AT RISK")[0]
    assert SCRIPT in overdue
    assert "MILESTONES DUE IN THE NEXT 4 WEEKS" in text
    assert all(len(line) <= 80 for line in text.splitlines()), max(text.splitlines(), key=len)


def test_decisions_name_the_past_due_gate_and_the_budget_overrun(rendered: RenderedDigest) -> None:
    decisions = rendered.html.split(">Decisions needed from you</td>")[1].split('class="section"')[0]
    assert "Approve or unblock “=HYPERLINK(" in decisions and "past due since 22 Jun 2027" in decisions
    assert "Forecast cost exceeds the budget limit" in decisions
    text = rendered.text.split("DECISIONS NEEDED FROM YOU")[1].split("KEY FIGURES")[0]
    assert "=HYPERLINK(" in text and "budget limit" in text


def test_no_decisions_on_plan_and_no_chart_without_history() -> None:
    plan = bundled()
    status = plan_status(plan, [], [], date(2027, 1, 1))  # before the start: no index yet
    where = "javascript:alert(1)"
    out = render_digest(
        digest(plan, status, None, week="2026-W53", certificate_milestone=None, tracker_location=where)
    )
    assert out.subject.endswith("· GREEN: all open milestones forecast on time")
    assert "None this week." in out.text and "No status from a week earlier" in out.text
    assert "Plan finish forecast [" not in out.text and "Plan finish forecast: 6 Dec 2030" in out.text
    assert "<a " not in out.html and where in out.html  # not a web address: named, not linked
    assert out.images == {} and "cid:" not in out.html
    message = send(out)
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]

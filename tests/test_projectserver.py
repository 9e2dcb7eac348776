"""The Project Server connector against the fake Project Server SE over real HTTP and real NTLM on
loopback: what is Project Server's own (summary tasks, milestones, link types, resources and rates,
assignments, check-out and queue jobs, the 2 MB cap, pre-flight refusals, progress, notes). What every
tracker must do (no duplicates, Retry-After, lost answers, kills) is in tests/contract."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
import yaml

from connectors.errors import SetupError
from connectors.projectserver import mapping
from connectors.projectserver.connector import ProjectServerConnector, project_id
from connectors.values import ContainerSpec, ExternalItem, ItemKind, ItemUpdate
from iso20k_sync.config import PlanConfig, ServiceConfig
from iso20k_sync.engine.mapping import container_spec, item_specs, link_specs
from iso20k_sync.engine.plans import plan_from_config
from iso20k_sync.engine.seed import SeedFailed, seed
from iso20k_sync.engine.sync import sync
from iso20k_sync.engine.trackers import connector_for
from iso20k_sync.store import Store

from .fakes.projectserver import FakeProjectServer, Project

PLAN_KEY = "acme-2027"
PID = project_id(PLAN_KEY)
CONFIG = """\
plans:
  - name: acme
    key: acme-2027
    template: {template}
    start: 2027-01-04
    tracker:
      kind: projectserver
      url: {url}
      project_name: ISO 20000 certification
      username: 'ACME\\svc'
      requests_per_second: 1000
      queue_poll: 0.001
      timeout: 5
{extra}
"""
CONTRACT = "tests/contract/contract-plan.yaml"
Setup = tuple[ServiceConfig, PlanConfig, Store]


@pytest.fixture
def fake() -> Iterator[FakeProjectServer]:
    with FakeProjectServer() as server:
        yield server


@pytest.fixture
def make(configured, monkeypatch, fake) -> Callable[..., Setup]:
    def new(template: str = "iso20000-1-2018", extra: str = "", url: str | None = None) -> Setup:
        monkeypatch.setenv("ISO20K_PROJECTSERVER_PASSWORD", fake.password)
        lines = textwrap.indent(extra, " " * 6)
        text = CONFIG.format(template=template, url=url or fake.site, extra=lines)
        return configured.load(configured.directory(), text)

    return new


def project(fake: FakeProjectServer) -> Project:
    return fake.projects[PID]


def ours(tasks: dict[str, dict]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for task in tasks.values():
        marked = mapping.read_marker(PLAN_KEY, task["Notes"])
        if marked is not None:
            assert marked[0] not in found, f"{marked[0]} twice"
            found[marked[0]] = task
    return found


def writes(fake: FakeProjectServer, since: int = 0) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests[since:] if r.method != "GET"]


def expected_keys(setup: Setup) -> set[str]:
    _config, _plan_config, store = setup
    with store.transaction() as repo:
        plan = repo.baseline(repo.plan("acme"))
    return {s.key for s in item_specs(plan, PLAN_KEY, with_phases=True)}


def assert_complete(fake: FakeProjectServer, setup: Setup) -> None:
    """Every item once in the published project, every link, checked in."""
    published = project(fake).published
    assert set(ours(published.tasks)) == expected_keys(setup)
    with setup[2].transaction() as repo:
        plan = repo.baseline(repo.plan("acme"))
    keys = {t["Id"]: k for k, t in ours(published.tasks).items()}
    made = {(keys[ln["StartId"]], keys[ln["EndId"]]) for ln in published.links.values()}
    assert made == {(ln.predecessor, ln.successor) for ln in link_specs(plan)}
    assert project(fake).checked_out_by is None


# --- seeding ---------------------------------------------------------------------------------------------


def test_seeding_the_bundled_plan_builds_the_whole_schedule_once_and_again_writes_nothing(fake, make):
    setup = make()
    config, plan_config, store = setup
    report = seed(config, plan_config, store)
    assert not report.failed, report.failed
    assert_complete(fake, setup)
    with store.transaction() as repo:
        plan = repo.baseline(repo.plan("acme"))
    tasks = ours(project(fake).published.tasks)
    for phase in plan.phases:  # phases are summary tasks holding their tasks
        summary = tasks[f"phase:{phase.id}"]
        assert summary["IsSummary"] and summary["Name"] == phase.name
        assert {k for k, t in tasks.items() if t["ParentId"] == summary["Id"]} == {
            t.id for t in plan.tasks if t.phase == phase.id
        }
    for task in plan.tasks:
        assert tasks[task.id]["IsMilestone"] == task.milestone
        if not task.milestone:
            assert tasks[task.id]["Duration"] == f"{max(task.duration, 1)}d"
    resources = project(fake).published.resources
    rates = {r.name: float(r.day_rate) / 8 for r in plan.roles if any(t.owner == r.id for t in plan.tasks)}
    assert {r["Name"]: r["StandardRate"] for r in resources.values()} == pytest.approx(rates)
    assigned = {a["TaskId"] for a in project(fake).published.assignments.values()}
    owned = {t.id for t in plan.tasks if t.owner and not t.milestone}
    assert {k for k, t in tasks.items() if t["Id"] in assigned} == owned
    effort = next(t for t in plan.tasks if t.owner and not t.milestone and sum(t.effort.values()) > 0)
    assert tasks[effort.id]["Work"] == mapping.hours(sum(effort.effort.values(), start=Decimal(0)), 8)
    before = len(fake.requests)
    again = seed(config, plan_config, store)
    assert (again.created, again.adopted, again.failed) == (0, 0, [])
    assert writes(fake, before) == []  # nothing checked out, nothing written


def test_link_types_are_project_dependency_types_and_lags_are_told_in_the_notes(fake, make):
    setup = make(CONTRACT)
    seed(*setup)
    published = project(fake).published
    tasks = ours(published.tasks)
    keys = {t["Id"]: k for k, t in tasks.items()}
    types = {
        (keys[ln["StartId"]], keys[ln["EndId"]]): ln["DependencyType"] for ln in published.links.values()
    }
    assert types[("a", "b")] == 1 and types[("a", "c")] == 3 and types[("long", "e")] == 0
    assert "Lag (not set in Project): a (SS+1 d)" in tasks["c"]["Notes"]
    assert tasks["c"]["Name"] == "Line one Line two" and len(tasks["long"]["Name"]) == 255


# --- resuming ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "words"),
    [(5, "(queue job"), (6, "FailedNotBlocking"), (8, "CorrelationBlocked"), (9, "was cancelled")],
)
def test_a_failed_queue_job_stops_the_seed_in_words_and_the_next_seed_carries_on(fake, make, state, words):
    setup = make(CONTRACT)
    fake.fail_next_job(state, "publish")
    with pytest.raises(SeedFailed) as failed:
        seed(*setup)
    assert words in str(failed.value) and "Traceback" not in str(failed.value)
    assert project(fake).checked_out_by == "acme\\svc"  # kept: the next run carries on from the draft
    report = seed(*setup)
    assert not report.failed
    assert_complete(fake, setup)


def test_a_queue_job_that_never_ends_times_out_with_a_message(fake, make):
    setup = make(CONTRACT, extra="queue_timeout: 0.2")
    fake.stall_next_job("publish")
    began = time.monotonic()
    with pytest.raises(SeedFailed, match=r"did not publish and check in .* within 0.2 s .* queue_timeout"):
        seed(*setup)
    assert time.monotonic() - began < 5
    assert_complete_after_retry(fake, setup)


def assert_complete_after_retry(fake: FakeProjectServer, setup: Setup) -> None:
    assert not seed(*setup).failed
    assert_complete(fake, setup)


def test_a_503_with_retry_after_is_waited_out_and_nothing_is_doubled(fake, make):
    setup = make(CONTRACT)
    fake.fail_next(503, retry_after=0.3, path="/Draft/Tasks/Add", method="POST")
    report = seed(*setup)
    assert not report.failed
    adds = [r for r in fake.requests if r.path.endswith("/Draft/Tasks/Add")]
    assert adds[0].status == 503 and adds[1].time - adds[0].time >= 0.3
    assert_complete(fake, setup)


def test_a_crash_between_check_out_and_check_in_is_carried_on_by_the_next_seed(fake, make):
    setup = make(CONTRACT)
    config, plan_config, store = setup
    seed(config, plan_config, store)  # then the plan grows by hand: a crashed run left its draft
    fake.delete_task(PID, ours(project(fake).published.tasks)["e"]["Id"])
    connector = connector_for(config, plan_config)
    with store.transaction() as repo:
        plan = repo.baseline(repo.plan("acme"))
    spec = next(s for s in item_specs(plan, PLAN_KEY, with_phases=True) if s.key == "e")
    connector.begin()
    phase = ours(project(fake).draft.tasks)["phase:audit"]
    parents = {"phase:audit": ExternalItem(key="phase:audit", kind=ItemKind.phase, external_id=phase["Id"])}
    assert connector.create_items([spec], parents).created
    assert connector.api.update(PID)  # saved, and then the process died: no commit, no abort
    assert project(fake).checked_out_by == "acme\\svc"
    report = seed(config, plan_config, store)
    assert not report.failed and report.created == 0  # "e" is in the draft: adopted, not added again
    assert_complete(fake, setup)


def test_a_check_out_by_someone_else_stops_the_seed_naming_who_and_writes_nothing(fake, make):
    setup = make(CONTRACT)
    seed(*setup)
    fake.add_user("ACME\\pm", "Pm-pa55word", "Pat Manager")
    fake.check_out_as(PID, "ACME\\pm")
    fake.delete_task(PID, ours(project(fake).published.tasks)["e"]["Id"])
    before = len(fake.requests)
    with pytest.raises(SeedFailed, match=r"checked out to acme\\pm \(Pat Manager\) since .*check it in"):
        seed(*setup)
    assert writes(fake, before) == []


# --- sizing ------------------------------------------------------------------------------------------------


def big_plan(tasks: int, words: int) -> str:
    """A plan of ``tasks`` tasks in phases of 100, each with a long description."""
    phases = [
        {
            "id": f"p{p}",
            "name": f"Phase {p}",
            "tasks": [
                {
                    "id": f"t{p}-{n}",
                    "name": f"Task {p}.{n}",
                    "duration": 2,
                    "effort": {"pm": 2},
                    "description": f"Step {p}.{n}: " + "check the records " * words,
                }
                for n in range(min(100, tasks - p * 100))
            ],
        }
        for p in range(-(-tasks // 100))
    ]
    roles = [{"id": "pm", "name": "Project manager", "day_rate": 800}]
    return yaml.safe_dump({"id": "big", "name": "Big", "version": "1", "currency": "EUR", "roles": roles,
                           "phases": phases})  # fmt: skip


def test_a_600_task_plan_is_sent_in_requests_and_saves_under_the_2_mb_cap(fake, make, tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(big_plan(600, 300))  # about 5.4 KB of notes a task: 3.3 MB in all
    setup = make(str(path))
    report = seed(*setup)
    assert not report.failed
    assert len(ours(project(fake).published.tasks)) == 606
    assert max(fake.body_sizes) < 2 * 1024 * 1024
    assert len(fake.saved_bytes) > 2 and max(fake.saved_bytes) < 1_500_000  # several saves, each < cap
    assert sum(fake.saved_bytes) > 2 * 1024 * 1024


# --- pre-flight --------------------------------------------------------------------------------------------


def preflight(setup: Setup) -> ProjectServerConnector:
    connector = connector_for(setup[0], setup[1])
    assert isinstance(connector, ProjectServerConnector)
    return connector


def container(setup: Setup) -> ContainerSpec:
    return container_spec(PLAN_KEY, "acme", plan_from_config(setup[0], setup[1]))


def test_a_wrong_password_is_a_windows_sign_in_refused_naming_the_user_not_the_password(
    fake, make, monkeypatch
):
    setup = make(CONTRACT)
    monkeypatch.setenv("ISO20K_PROJECTSERVER_PASSWORD", "Wrong-secret-42")
    with pytest.raises(SetupError) as refused:
        preflight(setup).ensure_container(container(setup))
    assert "Windows sign-in refused for ACME\\svc" in str(refused.value)
    assert "Wrong-secret-42" not in str(refused.value) and fake.projects == {}


def test_an_unreachable_site_is_a_setup_error(fake, make):
    setup = make(CONTRACT, url="http://127.0.0.1:9/pwa")
    connector = preflight(setup)
    connector.http.retry = type(connector.http.retry)(max_attempts=1)
    with pytest.raises(SetupError, match="cannot be reached"):
        connector.ensure_container(container(setup))


def test_a_project_name_taken_by_a_project_not_ours_is_refused(fake, make):
    setup = make(CONTRACT)
    fake.add_project("ISO 20000 certification")
    with pytest.raises(SeedFailed, match=r"taken .* not of plan 'acme-2027'") as failed:
        seed(*setup)
    assert failed.value.setup and PID not in fake.projects


def test_a_user_without_the_new_project_permission_is_told_so(fake, make):
    setup = make(CONTRACT)
    fake.users["acme\\svc"].permissions.discard("NewProject")
    with pytest.raises(SeedFailed, match="global permission New Project") as failed:
        seed(*setup)
    assert failed.value.setup


# --- sync ----------------------------------------------------------------------------------------------


def test_progress_is_read_from_the_published_project_and_an_unchanged_sync_writes_nothing(fake, make):
    setup = make(CONTRACT)
    config, plan_config, store = setup
    seed(config, plan_config, store)
    tasks = ours(project(fake).published.tasks)
    fake.report_progress(PID, tasks["a"]["Id"], PercentComplete=100, ActualCost=1600.0, ActualWork="16h",
                         ActualStart="2027-01-04T08:00:00", ActualFinish="2027-01-06T17:00:00")  # fmt: skip
    fake.report_progress(PID, tasks["b"]["Id"], PercentComplete="lots")
    first = sync(config, plan_config, store, date(2027, 1, 12))
    assert "b: PercentComplete 'lots' is not a number" in first.problems
    assert first.notes_written >= 2
    with store.transaction() as repo:
        items = repo.items(repo.plan("acme").id)
    pulled = preflight(setup).pull_progress(items, None)
    a = next(r.progress for r in pulled.records if r.key == "a")
    assert (a.percent_complete, a.actual_cost, a.time_spent_days) == (100, Decimal(1600), Decimal(2))
    assert (a.actual_start, a.actual_finish) == (date(2027, 1, 4), date(2027, 1, 6))
    notes = ours(project(fake).published.tasks)["gate"]["Notes"]
    assert (
        notes.startswith(mapping.STATUS_BEGIN)
        and mapping.marker(PLAN_KEY, "gate", ItemKind.milestone) in notes
    )
    before = len(fake.requests)
    second = sync(config, plan_config, store, date(2027, 1, 12))
    assert second.notes_written == 0 and writes(fake, before) == []


def test_a_stale_draft_patch_is_read_again_and_sent_once_more(fake, make):
    setup = make(CONTRACT)
    seed(*setup)
    with setup[2].transaction() as repo:
        items = repo.items(repo.plan("acme").id)
    connector = preflight(setup)
    fake.stale_next_patch()
    with connector.changes():
        assert connector.update_items([ItemUpdate(key="e", title="Renamed")], items) == []
    assert ours(project(fake).published.tasks)["e"]["Name"] == "Renamed"

"""The Planner (premium plans, Dataverse) connector against the fake Dataverse and sign-in, over real HTTPS on
loopback: device-code sign-in and its token cache, operation sets (200 operations, stale sets, failures),
the per-project limits, progress in fractions and hours, notes and request costs. What every tracker must
do (no duplicates, Retry-After, lost answers, kills) is in tests/contract."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import yaml

from connectors.errors import SetupError, TrackerError
from connectors.planner.connector import PlannerConnector
from connectors.planner.limits import check_limits
from connectors.planner.mapping import read_marker
from connectors.registry import BuildContext, tracker_kind
from connectors.values import ItemKind, ItemSpec, LinkSpec, stable_id
from iso20k_sync.config import PlanConfig, ServiceConfig
from iso20k_sync.engine.seed import SeedFailed, seed
from iso20k_sync.engine.sync import sync
from iso20k_sync.engine.trackers import connector_for
from iso20k_sync.store import Store

from .fakes.dataverse import ABANDONED, COMPLETED, FakeDataverse, loopback_tls

CLIENT = "0f7c2c4e-8d1a-4c55-9a3e-2b6f1d0e9c11"
USER = "pm@contoso.example"
PLAN_KEY = "acme-2027"
CONFIG = """\
data_dir: data
plans:
  - name: acme
    key: acme-2027
    template: {template}
    start: 2027-01-04
    tracker: {{kind: planner, environment_url: '{url}', client_id: {client}, tenant_id: contoso,
               authority: '{url}', poll_interval: 0.01, requests_per_second: 1000, timeout: 2}}
"""


def chained_template(tasks: int, phases: int) -> str:
    """``tasks`` tasks in ``phases`` phases, each task after the previous one of its phase."""
    per = tasks // phases
    body = [
        {"id": f"p{p}", "name": f"Phase {p}", "tasks": [
            {"id": f"t{p}-{n}", "name": f"Task {p}.{n}", "duration": 1, "effort": {"pm": 1},
             "depends_on": [f"t{p}-{n - 1}"] if n else []}
            for n in range(per)
        ]}
        for p in range(phases)
    ]  # fmt: skip
    head = {"id": "gen", "name": "Generated", "version": "1", "currency": "EUR",
            "roles": [{"id": "pm", "name": "Project manager", "day_rate": 800}]}  # fmt: skip
    return yaml.safe_dump({**head, "phases": body}, sort_keys=False)


@dataclass
class Setup:
    fake: FakeDataverse
    config: ServiceConfig
    plan: PlanConfig
    store: Store

    def seed(self):
        return seed(self.config, self.plan, self.store)

    def sync(self, day: date = date(2027, 1, 12)):
        return sync(self.config, self.plan, self.store, day)

    def connector(self) -> PlannerConnector:
        with self.store.transaction() as repo:
            row = repo.plan(self.plan.name)
            memo = (row.connector_memo if row else None) or {}
        connector = connector_for(self.config, self.plan, memo)
        assert isinstance(connector, PlannerConnector)
        return connector

    def items(self) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for task in self.fake.project_tasks():
            marked = read_marker(PLAN_KEY, task["msdyn_description"])
            if marked is not None:
                assert marked[0] not in found, f"{marked[0]} twice"
                found[marked[0]] = task
        return found

    def sign_in(self, user: str = USER, decline: bool = False) -> str:
        kind = tracker_kind("planner")
        context = BuildContext(plan_key=PLAN_KEY, data_dir=self.config.data_dir, secret=lambda v: "")

        def show(message: str) -> None:
            self.fake.approve(message.split("enter the code ")[1].split()[0], user, decline=decline)

        assert kind.sign_in is not None
        return kind.sign_in(self.plan.tracker, context, show)


@pytest.fixture
def fake(monkeypatch) -> Iterator[FakeDataverse]:
    tls, ca_file = loopback_tls()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
    with FakeDataverse(tls=tls) as server:
        server.add_app(CLIENT)
        server.add_user(USER)
        yield server


@pytest.fixture
def make(fake, configured) -> Callable[..., Setup]:
    def new(template: str = "iso20000-1-2018", signed_in: bool = True) -> Setup:
        directory = configured.directory()
        if template.startswith("id:"):
            (directory / "plan.yaml").write_text(template)
            template = str(directory / "plan.yaml")
        text = CONFIG.format(template=template, url=fake.url, client=CLIENT)
        setup = Setup(fake, *configured.load(directory, text))
        if signed_in:
            setup.sign_in()
        return setup

    return new


# --- sign-in -----------------------------------------------------------------------------------------


def test_sign_in_keeps_the_tokens_in_a_cache_only_its_owner_can_read(make):
    setup = make(signed_in=False)
    assert setup.sign_in() == USER
    cache = setup.plan.tracker.token_cache(setup.config.data_dir)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert setup.connector().auth.username() == USER  # the connector reads the same cache


def test_a_declined_sign_in_and_an_unknown_client_are_one_line_errors(make, fake):
    setup = make(signed_in=False)
    with pytest.raises(TrackerError, match="declined"):
        setup.sign_in(decline=True)
    fake.apps.clear()
    with pytest.raises(TrackerError, match="client_id and tenant_id") as caught:
        setup.sign_in()
    assert "\n" not in str(caught.value)
    elsewhere = setup.plan.tracker.model_copy(update={"tenant_id": "fabrikam"})
    context = BuildContext(plan_key=PLAN_KEY, data_dir=setup.config.data_dir, secret=lambda v: "")
    with pytest.raises(TrackerError, match=r"does not know the tenant.*check authority and tenant_id"):
        tracker_kind("planner").sign_in(elsewhere, context, print)  # type: ignore[misc]


def test_a_seed_before_anybody_signed_in_stops_as_bad_input_naming_the_login_command(make, fake):
    setup = make(signed_in=False)
    with pytest.raises(SeedFailed, match=r"run `iso20k-sync login --plan") as caught:
        setup.seed()
    assert caught.value.setup
    assert not fake.projects


# --- seeding -----------------------------------------------------------------------------------------


def test_the_bundled_plan_is_seeded_completely_with_phases_as_summary_tasks_and_idempotently(make, fake):
    setup = make()
    first = setup.seed()
    assert not first.failed, first.failed
    items = setup.items()
    with setup.store.transaction() as repo:
        plan = repo.baseline(repo.plan("acme"))
    assert set(items) == {t.id for t in plan.tasks} | {f"phase:{p.id}" for p in plan.phases}
    task = plan.tasks[0]
    row = items[task.id]
    assert row["msdyn_projecttaskid"] == str(stable_id(PLAN_KEY, task.id))
    assert row["_msdyn_parenttask_value"] == items[f"phase:{task.phase}"]["msdyn_projecttaskid"]
    assert row["msdyn_outlinelevel"] == 2 and row["_msdyn_projectbucket_value"]
    assert len(fake.dependencies) == len({(d.task, t.id) for t in plan.tasks for d in t.depends_on})
    assert fake.largest_set <= 200 and not fake.open_sets()
    roles = {r.id: r.name for r in plan.roles}
    owned = {t.id: roles[t.owner] for t in plan.tasks if t.owner and not t.milestone}
    team = {m["msdyn_projectteamid"]: m["msdyn_name"] for m in fake.team.values()}
    assert sorted(team.values()) == sorted(set(owned.values()))  # one generic member per role
    assigned = {a["_msdyn_taskid_value"]: team[a["_msdyn_projectteamid_value"]]
                for a in fake.assignments.values()}  # fmt: skip
    assert assigned == {items[key]["msdyn_projecttaskid"]: role for key, role in owned.items()}
    fake.clear_requests()
    again = setup.seed()
    assert (again.created, again.adopted, again.failed) == (0, 0, [])
    assert not fake.requests_to("/api/data/", method="POST")  # nothing written, no set opened
    assert len(fake.team) == len(team) and len(fake.assignments) == len(owned)


def test_a_failed_operation_set_stops_the_seed_with_a_message_and_the_next_seed_finishes(make, fake):
    setup = make()
    fake.fail_sets = 1
    with pytest.raises(SeedFailed, match="could not carry out operation set") as caught:
        setup.seed()
    assert "\n" not in str(caught.value) and "run the seed again" in str(caught.value)
    assert "the scheduling service failed (on demand)" in str(caught.value)  # read from its error log
    fake.fail_sets = 1
    fake.fail_next(403, path="/msdyn_psserrorlogs(")  # an administrative log this user may not read
    with pytest.raises(SeedFailed, match=r"Settings > Schedule Integration.*run the seed again"):
        setup.seed()
    report = setup.seed()
    assert not report.failed
    with setup.store.transaction() as repo:
        plan = repo.baseline(repo.plan("acme"))
    assert len(setup.items()) == len(plan.tasks) + len(plan.phases)


def test_a_503_with_retry_after_is_waited_out_and_nothing_is_doubled(make, fake):
    setup = make(template=chained_template(20, 2))
    fake.fail_next(503, retry_after=0.3, path="msdyn_PssCreateV2", method="POST")
    report = setup.seed()
    assert not report.failed and len(setup.items()) == 22
    creates = fake.requests_to("msdyn_PssCreateV2", method="POST")
    assert creates[0].status == 503 and creates[1].time - creates[0].time >= 0.3
    assert len(fake.dependencies) == 18


class Crash(BaseException):
    """The process died (not an Exception: nothing may catch it and carry on)."""


def crash_after(connector: PlannerConnector, path: str) -> PlannerConnector:
    send = connector.http._send

    def sending(method: str, url: str, **kwargs):
        response = send(method, url, **kwargs)
        if path in url:
            raise Crash(url)
        return response

    connector.http._send = sending
    connector.abort = lambda: None  # type: ignore[method-assign]  # a dead process cleans up nothing
    return connector


def test_a_seed_crashed_with_its_set_open_is_resumed_and_stale_sets_never_reach_the_ten_set_limit(make, fake):
    setup = make(template=chained_template(20, 2))
    with pytest.raises(Crash):
        seed(setup.config, setup.plan, setup.store, connector=crash_after(setup.connector(), "PssCreateV2"))
    connector = setup.connector()
    project = next(iter(fake.projects))
    for _ in range(9):  # nine more crashed runs: ten of our sets open, the user's limit
        connector.api.create_operation_set(project, f"iso20k-sync {PLAN_KEY}")
    assert len(fake.open_sets(USER)) == 10
    report = setup.seed()
    assert not report.failed and report.created == 22
    assert not fake.open_sets() and len(setup.items()) == 22
    assert {s.status for s in fake.sets.values() if s.operations and s.status != COMPLETED} <= {ABANDONED}


def test_a_set_executing_when_the_run_died_is_waited_for_and_its_tasks_adopted(make, fake):
    setup = make(template=chained_template(20, 2))
    with pytest.raises(Crash):
        seed(setup.config, setup.plan, setup.store,
             connector=crash_after(setup.connector(), "ExecuteOperationSetV1"))  # fmt: skip
    report = setup.seed()
    assert not report.failed and report.adopted == 2 and report.created == 20  # the phases, then the rest
    assert len(setup.items()) == 22


def test_a_600_task_plan_goes_in_sets_of_at_most_200_operations(make, fake):
    setup = make(template=chained_template(600, 6))
    report = setup.seed()
    assert not report.failed and len(setup.items()) == 606
    assert len(fake.dependencies) == 594
    executed = [s for s in fake.sets.values() if s.status == COMPLETED]
    assert fake.largest_set == max(len(s.operations) for s in executed) == 200
    assert not fake.open_sets()


def test_a_plan_over_a_project_limit_is_refused_before_anything_is_written_naming_limit_and_count(make, fake):
    setup = make(template=chained_template(1000, 10))
    with pytest.raises(SeedFailed, match=r"at most 1,000 tasks; this plan has 1,010") as caught:
        setup.seed()
    assert caught.value.setup and not fake.projects and not fake.requests_to("/api/data/")


def spec(key: str, parent: str | None = None) -> ItemSpec:
    day = date(2027, 1, 4)
    return ItemSpec(key=key, uid=stable_id("p", key), kind=ItemKind.task, title=key, parent=parent,
                    start=day, due=day, duration_days=1)  # fmt: skip


def test_the_limits_on_links_links_per_task_and_outline_levels_name_the_limit_and_the_count():
    specs = [spec(f"t{n}") for n in range(700)]
    chain = [LinkSpec(predecessor=f"t{n}", successor=f"t{n + 1}") for n in range(601)]
    with pytest.raises(SetupError, match="at most 600 dependencies; this plan has 601"):
        check_limits(specs, chain)
    star = [LinkSpec(predecessor="t0", successor=f"t{n}") for n in range(1, 22)]
    with pytest.raises(SetupError, match="at most 20 dependencies per task; task t0 has 21"):
        check_limits(specs, star)
    deep = [spec("l0")] + [spec(f"l{n}", f"l{n - 1}") for n in range(1, 11)]
    with pytest.raises(SetupError, match="at most 10 outline levels; task l10"):
        check_limits(deep, [])
    check_limits(deep[:10], star[:20])


# --- progress, notes, costs --------------------------------------------------------------------------


def test_progress_is_a_fraction_and_effort_in_hours_becomes_days_with_no_cost(make, fake):
    setup = make(template=chained_template(4, 1))
    setup.seed()
    items = setup.items()
    fake.record_progress(items["t0-0"]["msdyn_projecttaskid"], msdyn_progress=1.0, msdyn_effortcompleted=12.0,
                         msdyn_effortremaining=0.0, msdyn_actualstart="2027-01-04T08:00:00Z",
                         msdyn_actualend="2027-01-05T17:00:00Z")  # fmt: skip
    fake.record_progress(items["t0-1"]["msdyn_projecttaskid"], msdyn_progress=0.34, msdyn_effortcompleted=4.0,
                         msdyn_effortremaining=6.0)  # fmt: skip
    fake.record_progress(items["t0-2"]["msdyn_projecttaskid"], msdyn_progress="a lot")
    connector = setup.connector()
    with setup.store.transaction() as repo:
        known = repo.items(repo.plan("acme").id)
    pulled = connector.pull_progress(known, since=None)
    facts = {r.key: r.progress for r in pulled.records}
    done, half = facts["t0-0"], facts["t0-1"]
    assert (done.state, done.percent_complete, done.time_spent_days) == ("done", 100, Decimal("1.5"))
    assert (done.actual_start, done.actual_finish) == (date(2027, 1, 4), date(2027, 1, 5))
    assert (half.state, half.percent_complete, half.remaining_days) == (
        "in_progress",
        Decimal("34.0"),
        Decimal("0.75"),
    )
    assert all(f.actual_cost is None for f in facts.values())
    assert pulled.problems == ["t0-2: msdyn_progress 'a lot' is not a number of 0 or more"]


def test_milestone_notes_go_below_the_task_text_and_an_unchanged_sync_reads_one_page_and_writes_nothing(
    make, fake
):
    setup = make()
    setup.seed()
    first = setup.sync()
    assert first.notes_written >= 1
    milestone = next(
        t for t in setup.items().values() if "--- iso20k-sync status ---" in (t["msdyn_description"] or "")
    )
    assert read_marker(PLAN_KEY, milestone["msdyn_description"]) is not None  # the marker stays last
    fake.clear_requests()
    again = setup.sync()
    assert again.notes_written == 0
    dataverse = fake.requests_to("/api/data/")
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in dataverse] == [("GET", "msdyn_projecttasks")]


def test_login_on_the_command_line_shows_the_code_and_the_next_seed_signs_in_silently(make, fake):
    """What a PM does: `iso20k-sync login --plan acme` once, then seed with no prompt."""
    from typer.testing import CliRunner

    from iso20k_sync.cli import app

    setup = make(signed_in=False)
    path = setup.config.data_dir.parent / "iso20k-sync.yaml"
    fake.approver = USER  # the person enters the code in a browser while the command waits
    runner = CliRunner()
    result = runner.invoke(app, ["login", "-c", str(path), "--plan", "acme"])
    assert result.exit_code == 0, result.output
    assert "enter the code FAKE" in result.stderr
    assert "signed in to 'acme'" in result.stdout and USER in result.stdout
    seeded = runner.invoke(app, ["seed", "-c", str(path), "--format", "json"])
    assert seeded.exit_code == 0, seeded.output
    assert len(setup.items()) == 94 + 15


def test_an_actual_finish_before_the_start_is_a_problem_and_the_rest_is_still_read():
    from connectors.planner.mapping import progress

    row = {"msdyn_progress": 0.5, "msdyn_effortcompleted": 8, "msdyn_actualstart": "2027-02-10T00:00:00Z",
           "msdyn_actualend": "2027-02-01T00:00:00Z"}  # fmt: skip
    facts, problems = progress("t1", row, 8)
    assert problems == ["t1: actual finish 2027-02-01 is before actual start 2027-02-10; finish not read"]
    assert facts.actual_start == date(2027, 2, 10) and facts.percent_complete == 50
    assert facts.time_spent_days == 1

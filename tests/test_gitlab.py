"""The GitLab connector against the fake GitLab (Free and Premium), over real HTTP on loopback: what is
GitLab's own (milestones, labels, estimates, weights, blocks or relates_to, quick actions, request costs,
pre-flight refusals, notes, pacing). What every tracker must do (no duplicates, Retry-After, lost answers,
kills) is in tests/contract."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from typer.testing import CliRunner

from connectors.gitlab import mapping
from connectors.gitlab.budget import MinuteBudget
from connectors.gitlab.connector import GitLabConnector
from connectors.gitlab.settings import GitLabSettings
from connectors.values import (
    ItemKind,
    ItemSpec,
    ItemUpdate,
    Level,
    LinkSpec,
    NoteWrite,
    StatusNote,
    stable_id,
)
from iso20k_sync.cli import app
from iso20k_sync.cli.common import EXIT_INPUT
from iso20k_sync.config import PlanConfig, ServiceConfig, load_config
from iso20k_sync.engine.mapping import gates, item_specs, link_specs
from iso20k_sync.engine.seed import SeedFailed, seed
from iso20k_sync.engine.trackers import connector_for
from iso20k_sync.plan import Plan
from iso20k_sync.store import Store

from .fakes.gitlab import DEVELOPER, MAINTAINER, REPORTER, FakeGitLab, Issue

PLAN_KEY = "acme-2027"
PROJECT = "acme/iso20k"
CONFIG = """\
plans:
  - name: acme
    key: acme-2027
    template: {template}
    start: 2027-01-04
    tracker:
      kind: gitlab
      url: {url}
      project: {project}
      requests_per_second: 1000
{extra}
"""
HOSTILE = """\
id: hostile
name: Hostile
version: "1"
currency: EUR
roles:
  - {id: pm, name: Project manager, day_rate: 800}
phases:
  - id: p
    name: Phase
    tasks:
      - id: t
        name: "/close me"
        description: "Do it.\\n/close\\n/label ~hostile\\n/estimate 99d\\n/due 2030-01-01\\n  /close"
        duration: 2
        effort: {pm: 1}
      - {id: m, name: Done, milestone: true, depends_on: [t]}
"""

SMALL = """\
id: small
name: Small
version: "1"
currency: EUR
roles:
  - {id: pm, name: Project manager, day_rate: 800}
phases:
  - id: p
    name: Phase
    tasks:
""" + "".join(f"      - {{id: t{n}, name: Task {n}, duration: 2, effort: {{pm: 2}}}}\n" for n in range(1, 8))

Setup = tuple[ServiceConfig, PlanConfig, Store]


@dataclass
class Bundled:
    """The bundled plan seeded once per tier for the tests that only look (module scope: a seed of 350
    requests is not repeated)."""

    fake: FakeGitLab
    config: ServiceConfig
    plan_config: PlanConfig
    store: Store
    plan: Plan
    sent: int


@pytest.fixture(params=["free", "premium"])
def gitlab(request):
    with FakeGitLab(tier=request.param, rate_limits=False) as fake:
        fake.add_group("acme", access=MAINTAINER)  # a group's Maintainer sees its plan: the tier
        fake.add_project(PROJECT)
        yield fake


@pytest.fixture(scope="module", params=["free", "premium"])
def bundled(request, tmp_path_factory) -> Iterator[Bundled]:
    with FakeGitLab(tier=request.param, rate_limits=False) as fake, pytest.MonkeyPatch.context() as patch:
        fake.add_group("acme", access=MAINTAINER)
        fake.add_project(PROJECT)
        patch.setenv("ISO20K_GITLAB_TOKEN", fake.token)
        path = tmp_path_factory.mktemp("bundled") / "iso20k-sync.yaml"
        path.write_text(CONFIG.format(template="iso20000-1-2018", url=fake.url, project=PROJECT, extra=""))
        config = load_config(path)
        store = Store(config.database_url())
        store.upgrade()
        report = seed(config, config.plans[0], store)
        assert not report.failed, report.failed
        yield Bundled(fake, config, config.plans[0], store, baseline(store), len(fake.requests))
        store.dispose()


@pytest.fixture
def make(configured, monkeypatch) -> Callable[..., Setup]:
    def new(
        fake: FakeGitLab, extra: str = "", template: str = "iso20000-1-2018", project: str = PROJECT
    ) -> Setup:
        monkeypatch.setenv("ISO20K_GITLAB_TOKEN", fake.token)
        directory = configured.directory()
        if template in ("hostile", "small"):
            (directory / f"{template}.yaml").write_text(HOSTILE if template == "hostile" else SMALL)
            template = str(directory / f"{template}.yaml")
        lines = textwrap.indent(extra, " " * 6)
        return configured.load(
            directory, CONFIG.format(template=template, url=fake.url, project=project, extra=lines)
        )

    return new


def baseline(store: Store) -> Plan:
    with store.transaction() as repo:
        return repo.baseline(repo.plan("acme"))


def ours(fake: FakeGitLab, project: str = PROJECT) -> dict[str, Issue]:
    found: dict[str, Issue] = {}
    for issue in fake.issues(project):
        marked = mapping.read_marker(PLAN_KEY, issue.description)
        if marked is not None:
            assert marked[0] not in found, f"{marked[0]} created twice"
            found[marked[0]] = issue
    return found


def writes(fake: FakeGitLab, since: int = 0) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests[since:] if r.method != "GET"]


# --- seeding ---------------------------------------------------------------------------------------------


def test_seeding_makes_a_dated_milestone_per_gate_and_a_labelled_estimated_issue_per_task(bundled):
    gitlab, plan = bundled.fake, bundled.plan
    issues = ours(gitlab)
    assert sorted(issues) == sorted(t.id for t in plan.tasks)
    tasks = {t.id: t for t in plan.tasks}
    milestones = {m.title: m for m in gitlab.milestones.values()}
    assert sorted(milestones) == sorted(tasks[key].name for key in gates(plan).values())
    for phase, key in gates(plan).items():
        milestone = milestones[tasks[key].name]
        assert milestone.due_date == str(tasks[key].finish) and milestone.start_date < milestone.due_date
        assert {issues[t.id].milestone_id for t in plan.tasks if t.phase == phase} == {milestone.id}
    assert min(m.start_date or "" for m in milestones.values()) == str(plan.start)
    premium = gitlab.tier == "premium"
    task = next(t for t in plan.tasks if t.clauses and t.owner and sum(t.effort.values()) > 1)
    issue, effort = issues[task.id], sum(task.effort.values(), start=Decimal(0))
    phase = next(p.name for p in plan.phases if p.id == task.phase)
    role = next(r.name for r in plan.roles if r.id == task.owner)
    wanted = {
        f"iso20k:{PLAN_KEY}",
        f"phase::{phase}",
        f"role::{role}",
        *(f"iso20000-1:{c}" for c in task.clauses),
    }
    assert wanted <= set(issue.labels)
    assert issue.due_date == str(task.finish) and issue.state == "opened"
    assert issue.time_estimate == round(effort * 8 * 3600 / 60) * 60  # the /estimate line, then gone
    assert "/estimate" not in (issue.description or "") and task.description[:40] in (issue.description or "")
    assert issue.weight == (int(effort.to_integral_value(ROUND_HALF_UP)) if premium else None)
    assert all(i.weight is None for k, i in issues.items() if tasks[k].milestone)


def test_dependencies_are_blocks_links_on_premium_and_relates_to_links_with_a_depends_on_line_on_free(
    bundled,
):
    gitlab, plan = bundled.fake, bundled.plan
    issues = ours(gitlab)
    expected = {(d.task, t.id) for t in plan.tasks for d in t.depends_on}
    keys = {issue.id: key for key, issue in issues.items()}
    links = list(gitlab.links.values())
    assert len(links) == len(expected)
    if gitlab.tier == "premium":
        assert {link.link_type for link in links} == {"blocks"}
        assert {(keys[link.source_id], keys[link.target_id]) for link in links} == expected
        assert not any(mapping.DEPENDS in (i.description or "") for i in issues.values())
        return
    assert {link.link_type for link in links} == {"relates_to"}
    assert {(keys[link.target_id], keys[link.source_id]) for link in links} == expected
    first: dict[tuple[str, str], LinkSpec] = {}
    for link in link_specs(plan):
        first.setdefault((link.predecessor, link.successor), link)
    for (predecessor, successor), link in first.items():
        entries = mapping.dependency_entries(issues[successor].description)
        reference = f"#{issues[predecessor].iid}"
        assert entries[reference] == mapping.dependency(reference, link), (predecessor, successor)
    assert sum(len(mapping.dependencies(i.description)) for i in issues.values()) == len(expected)
    assert any("(start-to-start" in i.description or "" for i in issues.values())


def test_seeding_the_bundled_plan_costs_the_floor_and_a_few_checks(bundled):
    """Floor: one create per issue, link and milestone (on Free the "Depends on" line goes into the
    create; only an issue created before one of its predecessors needs one update more, counted here)."""
    plan = bundled.plan
    pairs = {(link.predecessor, link.successor) for link in link_specs(plan)}
    floor = len(item_specs(plan, PLAN_KEY, with_phases=False)) + len(pairs) + len(gates(plan))
    sent = bundled.sent
    assert floor < sent <= 1.1 * floor and sent - floor <= 12, (sent, floor)


def test_a_re_seed_finds_everything_with_one_list_call_and_creates_nothing(bundled, make):
    gitlab, store = bundled.fake, bundled.store
    before = len(gitlab.requests)
    again = seed(bundled.config, bundled.plan_config, store)
    assert (again.created, again.adopted, again.failed) == (0, 0, [])
    sent = gitlab.requests[before:]
    assert writes(gitlab, before) == []
    assert len([r for r in sent if r.path.endswith("/issues")]) == 1 and len(sent) <= 6
    # a lost store: every issue found by its marker and recorded, nothing created
    lost = make(gitlab)
    before = len(gitlab.requests)
    found = seed(*lost)
    assert (found.created, found.adopted, found.failed) == (0, len(ours(gitlab)), [])
    # without the memo the links are posted again: GitLab answers 409, nothing changes (on Free the
    # "Depends on" lines are written when an issue is created, so they do not prove a link was made)
    assert {r.status for r in gitlab.requests[before:] if r.method != "GET"} == {409}
    assert len(gitlab.links) == len({(d.task, t.id) for t in baseline(store).tasks for d in t.depends_on})


def test_plan_text_starting_with_a_slash_runs_no_quick_action(gitlab, make):
    gitlab.create_issue(PROJECT, "a person's issue", labels=["hostile"])  # /label ~hostile would apply it
    config, plan_config, store = make(gitlab, template="hostile")
    assert not seed(config, plan_config, store).failed
    issue = ours(gitlab)["t"]
    assert issue.title == "/close me" and issue.state == "opened"
    assert "hostile" not in issue.labels and issue.due_date != "2030-01-01"
    assert issue.time_estimate == 8 * 3600  # our /estimate 8h, not the plan's /estimate 99d
    for line in ("\\/close", "\\/label ~hostile", "\\/estimate 99d", "  \\/close"):
        assert f"\n{line}\n" in f"\n{issue.description}\n", line


def test_a_title_longer_than_gitlab_takes_is_cut_and_kept_whole_in_the_description(gitlab, make):
    config, plan_config, store = make(gitlab, template="hostile")
    seed(config, plan_config, store)
    gitlab_connector = connector_for(config, plan_config)
    long = ItemSpec(
        key="long", uid=stable_id(PLAN_KEY, "long"), kind=ItemKind.task, title="/x " + "y" * 300,
        start=date(2027, 1, 4), due=date(2027, 1, 8), duration_days=5,
    )  # fmt: skip
    assert not gitlab_connector.create_items([long], {}).failed
    issue = ours(gitlab)["long"]
    assert len(issue.title) == 255 and issue.title.endswith("…")
    assert (issue.description or "").startswith("\\/x " + "y" * 300)


# --- pre-flight ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("project", "GitLab project 'acme/elsewhere' not found"),
        ("scope", "lacks the api scope (it has: read_api)"),
        ("tier", "tier: premium is set, but acme is on GitLab Free"),
        ("reporter", "the token's user is Guest in GitLab project acme/iso20k"),
    ],
)
def test_the_pre_flight_refuses_before_anything_is_created_with_the_exit_code_of_bad_input(
    make, tmp_path, damage, expected
):
    scopes = ["read_api"] if damage == "scope" else ["api"]
    with FakeGitLab(tier="free", scopes=scopes, rate_limits=False) as fake:
        fake.add_group("acme", access=MAINTAINER if damage != "reporter" else None)
        fake.add_project(PROJECT, access=10 if damage == "reporter" else MAINTAINER)
        extra = "tier: premium" if damage == "tier" else ""
        make(fake, extra, project="acme/elsewhere" if damage == "project" else PROJECT)
        result = CliRunner().invoke(app, ["seed", "-c", str(tmp_path / "run-0" / "iso20k-sync.yaml")])
        assert result.exit_code == EXIT_INPUT, result.output  # as config check: the settings are wrong
        assert expected in " ".join(result.stderr.split())
        assert writes(fake) == []


def test_a_missing_project_is_created_in_its_group_only_where_the_user_may(make):
    with FakeGitLab(tier="free", rate_limits=False) as fake:
        fake.add_group("acme", access=REPORTER)
        config, plan_config, store = make(fake, "group: acme", template="hostile")
        with pytest.raises(
            SeedFailed, match="is Reporter in group 'acme', where creating projects needs at "
        ):
            seed(config, plan_config, store)
        assert writes(fake) == []
        fake.set_access("acme", DEVELOPER)
        report = seed(config, plan_config, store)
        assert not report.failed and report.container == f"{fake.url}/{PROJECT}"
        assert sorted(ours(fake)) == ["m", "t"]


# --- pacing and faults -----------------------------------------------------------------------------------


def test_a_429_without_any_header_is_waited_out_with_backoff(gitlab, make):
    config, plan_config, store = make(gitlab, template="hostile")
    gitlab.fail_next(429, count=2, path="/issues", method="POST")
    report = seed(config, plan_config, store)
    assert not report.failed and sorted(ours(gitlab)) == ["m", "t"]
    assert sum(r.status == 429 for r in gitlab.requests) == 2


def test_a_retry_after_beyond_max_retry_wait_ends_the_run_with_a_message(gitlab, make):
    config, plan_config, store = make(gitlab, "max_retry_wait: 5", template="hostile")
    gitlab.fail_next(429, retry_after=86400, path="/milestones", method="POST")
    with pytest.raises(SeedFailed, match=r"asked to wait 86400 s .* run again after"):
        seed(config, plan_config, store)


def test_a_create_whose_answer_was_lost_is_looked_up_and_not_sent_again(gitlab, make):
    config, plan_config, store = make(gitlab, "timeout: 1", template="hostile")
    gitlab.slow_next(2.5, path="/issues", method="POST")
    report = seed(config, plan_config, store)
    assert not report.failed and sorted(ours(gitlab)) == ["m", "t"]
    creates = [r for r in gitlab.requests if r.method == "POST" and r.path.endswith("/issues")]
    assert len(creates) == 2  # one per issue: the lost one was found by its marker
    look_up = [r for r in gitlab.requests if r.method == "GET" and "updated_after" in r.query]
    assert len(look_up) == 1


def test_per_minute_budgets_default_to_gitlab_com_s_limits_and_wait_for_a_free_turn():
    def budgets(tier: str, **settings: object) -> tuple[int | None, int | None]:
        values = {"kind": "gitlab", "project": "acme/iso20k", **settings}
        connector = GitLabConnector(GitLabSettings.model_validate(values), PLAN_KEY, "t", memo={"tier": tier})
        return connector._requests.limit, connector._creates.limit

    assert budgets("free") == (100, 200)
    assert budgets("premium") == (1250, 200)
    assert budgets("free", url="https://gitlab.acme.example") == (None, None)
    assert budgets("free", url="https://gitlab.acme.example", requests_per_minute=30) == (30, None)
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = MinuteBudget(3, sleep=sleep, clock=lambda: now[0])
    for moment in (0.0, 10.0, 20.0, 30.0):
        now[0] = max(now[0], moment)
        budget.take()
    assert slept == [30.0]  # the fourth turn waits until the first leaves the minute


# --- pull, notes, updates --------------------------------------------------------------------------------


def connected(config: ServiceConfig, plan_config: PlanConfig, store: Store) -> tuple[GitLabConnector, dict]:
    with store.transaction() as repo:
        row = repo.plan("acme")
        items, memo = repo.items(row.id), row.connector_memo or {}
    connector = connector_for(config, plan_config, memo)
    assert isinstance(connector, GitLabConnector)
    return connector, items


def test_a_pull_costs_one_list_call_and_an_unchanged_increment_one_request(bundled):
    gitlab = bundled.fake
    connector, items = connected(bundled.config, bundled.plan_config, bundled.store)
    since = datetime.now(UTC)
    before = len(gitlab.requests)
    full = connector.pull_progress(items, None)
    assert len(full.records) == len(items) and not full.missing and not full.problems
    assert len(gitlab.requests) - before == 1  # 94 issues: one page of 100
    before = len(gitlab.requests)
    assert connector.pull_progress(items, since).records == []
    assert len(gitlab.requests) - before == 1 and "updated_after" in gitlab.requests[-1].query


def test_a_pull_reads_state_time_and_checklists_and_reports_moved_and_deleted_issues(gitlab, make):
    config, plan_config, store = make(gitlab, template="small")
    seed(config, plan_config, store)
    connector, items = connected(config, plan_config, store)
    issues = ours(gitlab)
    keys = sorted(issues)
    closed, logged, checklist, labelled, assigned, moved, deleted = keys
    gitlab.close_issue(PROJECT, issues[closed].iid)
    gitlab.log_time(PROJECT, issues[logged].iid, 4 * 3600)
    text = f"- [x] one\n- [ ] two\n- [ ] three\n- [ ] four\n\n{issues[checklist].description}"
    gitlab.edit_issue(PROJECT, issues[checklist].iid, description=text)
    gitlab.set_labels(PROJECT, issues[labelled].iid, [*issues[labelled].labels, "workflow::in progress"])
    person = gitlab.add_member(PROJECT, "auditor", DEVELOPER)
    gitlab.edit_issue(PROJECT, issues[assigned].iid, assignee_ids=[person.id])
    gitlab.add_project("acme/elsewhere")
    gitlab.move_issue(PROJECT, issues[moved].iid, "acme/elsewhere")
    gitlab.delete_issue(PROJECT, issues[deleted].iid)
    pulled = connector.pull_progress(items, None)
    progress = {r.key: r.progress for r in pulled.records}
    assert progress[closed].state == "done" and progress[closed].percent_complete == 100
    assert progress[closed].actual_finish == datetime.now(UTC).date()
    assert progress[logged].state == "in_progress" and progress[logged].time_spent_days == Decimal("0.5")
    estimate = Decimal(issues[logged].time_estimate) / (8 * 3600)
    assert progress[logged].remaining_days == max(estimate - Decimal("0.5"), Decimal(0))
    assert progress[checklist].percent_complete == 25 and progress[checklist].state == "in_progress"
    assert progress[labelled].state == "in_progress" and progress[assigned].state == "in_progress"
    assert pulled.missing == [deleted]
    assert any(p.startswith(f"{moved}: #{issues[moved].iid} was moved") for p in pulled.problems)
    assert moved not in progress


def test_the_status_note_is_one_note_edited_in_place_and_found_again_by_its_marker(gitlab, make):
    config, plan_config, store = make(gitlab, template="hostile")
    seed(config, plan_config, store)
    connector, items = connected(config, plan_config, store)
    note = StatusNote(key="m", level=Level.amber, title="Done", text="Late by 2 days.\n/close")
    [first] = connector.write_notes([NoteWrite(note=note)], items)
    changed = note.model_copy(update={"text": "Late by 3 days.\n/close"})
    [second] = connector.write_notes([NoteWrite(note=changed, ref=first.ref)], items)
    lost = note.model_copy(update={"text": "Late by 4 days.\n/close"})
    [third] = connector.write_notes([NoteWrite(note=lost, ref=None)], items)
    assert first.ref == second.ref == third.ref
    shown = [n for n in gitlab.notes_of(PROJECT, ours(gitlab)["m"].iid) if not n.system]
    assert len(shown) == 1 and "Late by 4 days." in shown[0].body and "\\/close" in shown[0].body
    assert ours(gitlab)["m"].state == "opened"


def test_titles_and_due_dates_are_updated_in_place_and_an_estimate_change_is_reported(gitlab, make):
    config, plan_config, store = make(gitlab, template="hostile")
    seed(config, plan_config, store)
    connector, items = connected(config, plan_config, store)
    update = ItemUpdate(key="t", title="Renamed", due=date(2027, 2, 1), estimate_days=Decimal(3))
    failures = connector.update_items([update], items)
    assert [f.key for f in failures] == ["t"] and "estimate" in failures[0].message
    issue = ours(gitlab)["t"]
    assert (issue.title, issue.due_date) == ("Renamed", "2027-02-01")


# --- mapping ---------------------------------------------------------------------------------------------


def test_every_line_of_plan_text_that_starts_with_a_slash_is_escaped():
    text = "/close\r\n  /label ~x\rkeep /this\n\\/already"
    assert mapping.escape(text) == "\\/close\n  \\/label ~x\nkeep /this\n\\/already"


def test_settings_refuse_a_numeric_project_to_create_a_project_outside_its_group_and_credentials():
    with pytest.raises(ValueError, match="numeric id cannot be created"):
        GitLabSettings(kind="gitlab", project="12", group="acme")
    with pytest.raises(ValueError, match="not in group"):
        GitLabSettings(kind="gitlab", project="other/iso20k", group="acme")
    with pytest.raises(ValueError, match="credentials"):
        GitLabSettings(kind="gitlab", url="https://me:pw@gitlab.com", project="a/b")
    assert GitLabSettings(kind="gitlab", project="iso20k", group="acme").project_ref == "acme/iso20k"


def test_the_depends_on_line_is_replaced_before_the_marker():
    text = "Do it.\n\n**Depends on:** #1\n\n<!-- iso20k:p:k task -->"
    assert mapping.with_dependencies(text, ["#1", "#2 (start-to-start)"]) == (
        "Do it.\n\n**Depends on:** #1, #2 (start-to-start)\n\n<!-- iso20k:p:k task -->"
    )
    assert mapping.dependencies(mapping.with_dependencies(text, ["#1", "#2 (start-to-start)"])) == ["1", "2"]


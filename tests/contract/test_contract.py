"""The contract every connector keeps, tried through the engine on each registered tracker.

Cases (the README's testing section lists them):
1. seeding twice changes nothing;
2. a seed killed after each operation in turn (each request, or each file read and save) and run again
   leaves exactly one item per task and every link;
3. an item deleted in the tracker is reported missing;
4. Retry-After is honoured (trackers over HTTP);
5. a partial bulk failure is retried once and reported with the tracker's words (trackers with bulk
   creates);
6. a create whose answer was lost (a time-out after the tracker did the work) is not duplicated;
7. an unchanged pull costs one operation, and an unchanged sync writes nothing;
8. hostile strings (markup, a formula, CR/LF, a leading "/", 4-byte emoji, 300 characters) are stored as
   plain text and found again by their keys;
9. notes are written when they change and not otherwise; planned values can be updated in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from connectors.protocol import Connector
from connectors.registry import tracker_kinds
from connectors.values import ItemUpdate
from iso20k_sync.config import PlanConfig, ServiceConfig, load_config
from iso20k_sync.engine.mapping import item_specs, link_specs
from iso20k_sync.engine.seed import SeedReport, seed
from iso20k_sync.engine.sync import SyncReport, sync
from iso20k_sync.engine.trackers import connector_for
from iso20k_sync.store import Store

from .gitlab_harness import GitLabHarness
from .harness import PLAN_KEY, TEMPLATE, Harness, SimulatedKill
from .jira_harness import JiraHarness
from .planner_harness import PlannerHarness
from .projectserver_harness import ProjectServerHarness
from .workbook_harness import WorkbookHarness

HARNESSES: dict[str, tuple[type[Harness], Callable[[pytest.MonkeyPatch, Path], Harness]]] = {
    "workbook": (WorkbookHarness, WorkbookHarness),
    "jira-cloud": (JiraHarness, lambda monkeypatch, directory: JiraHarness("cloud")),
    "jira-datacenter": (JiraHarness, lambda monkeypatch, directory: JiraHarness("datacenter")),
    "gitlab-free": (GitLabHarness, lambda monkeypatch, directory: GitLabHarness("free")),
    "gitlab-premium": (GitLabHarness, lambda monkeypatch, directory: GitLabHarness("premium")),
    "projectserver": (ProjectServerHarness, lambda monkeypatch, directory: ProjectServerHarness()),
    "planner": (PlannerHarness, lambda monkeypatch, directory: PlannerHarness()),
}


def having(feature: str | None = None) -> list[str]:
    """The trackers a case applies to: all, or those with a feature (a case that cannot happen to a
    tracker, such as Retry-After for a local file, is not generated for it)."""
    return sorted(
        name for name, (kind, _) in HARNESSES.items() if feature is None or feature in kind.features
    )


CONFIG = """\
data_dir: data
plans:
  - name: contract
    key: {key}
    template: {template}
    start: 2027-01-04
    tracker: {tracker}
"""


def test_every_registered_tracker_is_under_the_contract():
    kinds = {name.split("-")[0] for name in HARNESSES}
    assert kinds == set(tracker_kinds())


class Setup:
    """One plan, one store and one tracker, driven through the engine as the CLI drives it."""

    def __init__(self, harness: Harness, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.harness = harness
        directory.mkdir(parents=True, exist_ok=True)
        for name, value in harness.environment().items():
            monkeypatch.setenv(name, value)
        path = directory / "iso20k-sync.yaml"
        tracker = harness.tracker_yaml(directory)
        path.write_text(CONFIG.format(key=PLAN_KEY, template=TEMPLATE, tracker=tracker))
        self.config: ServiceConfig = load_config(path)
        self.plan: PlanConfig = self.config.plans[0]
        self.store = Store(self.config.database_url())
        self.store.upgrade()

    def connector(self) -> Connector:
        with self.store.transaction() as repo:
            row = repo.plan(self.plan.name)
            memo = (row.connector_memo if row else None) or {}
        return self.harness.attach(connector_for(self.config, self.plan, memo))

    def seed(self) -> SeedReport:
        return seed(self.config, self.plan, self.store, connector=self.connector())

    def sync(self, day: date = date(2027, 1, 12)) -> SyncReport:
        return sync(self.config, self.plan, self.store, day, connector=self.connector())

    def expected_keys(self) -> set[str]:
        with self.store.transaction() as repo:
            plan = repo.baseline(repo.plan(self.plan.name))
        phases = self.connector().capabilities.phases
        return {spec.key for spec in item_specs(plan, PLAN_KEY, with_phases=phases)}

    def expected_links(self) -> set[tuple[str, str]]:
        if "links" not in self.harness.features:
            return set()
        with self.store.transaction() as repo:
            plan = repo.baseline(repo.plan(self.plan.name))
        return {(link.predecessor, link.successor) for link in link_specs(plan)}

    def close(self) -> None:
        self.store.dispose()


@pytest.fixture
def make(tracker, tmp_path, monkeypatch) -> Iterator[Callable[[], Setup]]:
    """A factory of fresh setups (a new tracker and store each) of the tracker under test."""
    made: list[Setup] = []

    def new() -> Setup:
        directory = tmp_path / f"run-{len(made)}"
        setup = Setup(HARNESSES[tracker][1](monkeypatch, directory), directory, monkeypatch)
        made.append(setup)
        return setup

    yield new
    for setup in made:
        setup.close()
        setup.harness.close()


@pytest.fixture
def setup(make) -> Setup:
    return make()


# --- 1, 2: idempotent and resumable ------------------------------------------------------------------


@pytest.mark.parametrize("tracker", having())
def test_seeding_twice_changes_nothing(setup):
    first = setup.seed()
    assert not first.failed, first.failed
    setup.harness.settle()
    items, links = setup.harness.items(), setup.harness.links()
    assert set(items) == setup.expected_keys()
    assert links == setup.expected_links()
    again = setup.seed()
    assert (again.created, again.adopted, again.failed) == (0, 0, [])
    assert setup.harness.items() == items and setup.harness.links() == links


@pytest.mark.parametrize("tracker", having())
def test_a_seed_killed_after_each_operation_and_run_again_leaves_one_item_per_task_and_every_link(make):
    reference = make()
    reference.seed()
    operations = reference.harness.operations
    assert operations >= 3
    for kill_after in range(1, operations + 1):
        setup = make()
        setup.harness.kill_after = kill_after
        with pytest.raises(SimulatedKill):
            setup.seed()
        setup.harness.settle()
        report = setup.seed()
        assert not report.failed, (kill_after, report.failed)
        assert set(setup.harness.items()) == setup.expected_keys(), kill_after  # each key once
        assert setup.harness.links() == setup.expected_links(), kill_after


# --- 3: missing items --------------------------------------------------------------------------------


@pytest.mark.parametrize("tracker", having())
def test_an_item_deleted_in_the_tracker_is_reported_missing(setup):
    setup.seed()
    setup.harness.settle()
    setup.harness.delete("b")
    setup.harness.settle()
    report = setup.sync()
    assert "b: seeded item no longer in the tracker" in report.problems


# --- 4, 5, 6: faults of the tracker ------------------------------------------------------------------


@pytest.mark.parametrize("tracker", having("http"))
def test_retry_after_is_honoured(setup):
    setup.seed()
    setup.harness.settle()
    setup.harness.retry_after_next(1.0)
    setup.sync()
    times = setup.harness.request_times()
    refused = next(i for i, (status, _) in enumerate(times) if status == 429)
    assert times[refused + 1][1] - times[refused][1] >= 1.0


@pytest.mark.parametrize("tracker", having("bulk"))
def test_a_partial_bulk_failure_is_retried_once_and_reported(setup):
    setup.harness.refuse_titles("Plain task")
    report = setup.seed()
    assert [f.key for f in report.failed] == ["e"]
    assert "summary" in report.failed[0].message  # the tracker's own words
    assert setup.harness.attempts("Plain task") == 2
    assert "e" not in setup.harness.items() and "done" in setup.harness.items()
    setup.harness.refuse_titles(None)
    setup.harness.settle()
    again = setup.seed()
    assert again.created == 1 and not again.failed
    assert set(setup.harness.items()) == setup.expected_keys()
    assert setup.harness.links() == setup.expected_links()


@pytest.mark.parametrize("tracker", having("timeout"))
def test_a_create_whose_answer_was_lost_is_not_duplicated(setup):
    setup.harness.lose_next_create_answer()
    report = setup.seed()
    assert not report.failed, report.failed
    assert set(setup.harness.items()) == setup.expected_keys()  # each once


# --- 7: cost of an unchanged pull --------------------------------------------------------------------


@pytest.mark.parametrize("tracker", having())
def test_an_unchanged_pull_costs_one_operation_and_an_unchanged_sync_writes_nothing(setup):
    setup.seed()
    setup.harness.settle()
    setup.sync()
    setup.harness.settle()
    connector = setup.connector()
    with setup.store.transaction() as repo:
        items = repo.items(repo.plan("contract").id)
    with setup.harness.counting() as cost:
        connector.pull_progress(items, since=None)
    assert cost[0] == 1
    if connector.capabilities.rewrite_notes:
        return  # a tracker saved whole rewrites its notes on every sync (the workbook's Status sheet)
    setup.harness.writes_since_last_look()
    report = setup.sync()
    assert report.notes_written == 0 and setup.harness.writes_since_last_look() == 0


# --- 8: hostile strings ------------------------------------------------------------------------------


@pytest.mark.parametrize("tracker", having())
def test_hostile_strings_are_stored_as_plain_text_and_found_again(setup):
    assert not setup.seed().failed
    setup.harness.settle()
    with setup.store.transaction() as repo:
        plan = repo.baseline(repo.plan("contract"))
    items = setup.harness.items()
    for task in plan.tasks:
        stored = items[task.id]
        assert stored["title"] == setup.harness.stored_title(task.name), task.id
        assert stored.get("text", True), f"{task.id} became something other than text"
    again = setup.seed()
    assert (again.created, again.adopted) == (0, 0)


# --- 9: notes and updates ----------------------------------------------------------------------------


@pytest.mark.parametrize("tracker", having())
def test_notes_are_written_when_they_change_and_not_otherwise(setup):
    setup.seed()
    setup.harness.settle()
    first = setup.sync(date(2027, 1, 12))
    assert first.notes_written >= 2  # one per milestone at least
    setup.harness.settle()
    shown = setup.harness.notes()
    assert set(shown) >= {"gate", "done"}
    rewrites = setup.connector().capabilities.rewrite_notes
    if not rewrites:
        setup.harness.writes_since_last_look()
    second = setup.sync(date(2027, 1, 12))
    assert setup.harness.notes() == shown
    if not rewrites:
        assert second.notes_written == 0 and setup.harness.writes_since_last_look() == 0
    setup.harness.delete("e")  # the plan's outlook changes: the notes that changed are written again
    setup.harness.settle()
    third = setup.sync(date(2027, 3, 1))
    assert third.notes_written >= 1 and setup.harness.notes() != shown


@pytest.mark.parametrize("tracker", having("updates"))
def test_planned_values_are_updated_in_place(setup):
    setup.seed()
    setup.harness.settle()
    connector = setup.connector()
    assert connector.capabilities.updates
    with setup.store.transaction() as repo:
        items = repo.items(repo.plan("contract").id)
    update = ItemUpdate(key="e", title="Plain task, renamed", due=date(2027, 3, 1))
    with connector.changes():
        assert connector.update_items([update], items) == []
    setup.harness.settle()
    stored = setup.harness.items()["e"]
    assert stored["title"] == "Plain task, renamed" and stored["due"] == date(2027, 3, 1)
    assert set(setup.harness.items()) == setup.expected_keys()

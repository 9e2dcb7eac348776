"""GitLab (Free or Premium) under the contract, on the fake GitLab: its operations are requests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from connectors.gitlab import mapping
from connectors.gitlab.connector import GitLabConnector
from connectors.protocol import Connector

from ..fakes.gitlab import MAINTAINER, FakeGitLab, Issue
from .harness import PLAN_KEY, HttpHarness

PROJECT = "contract/iso20k"


class GitLabHarness(HttpHarness):
    features = frozenset({"http", "timeout", "links", "updates"})

    def __init__(self, tier: str) -> None:
        super().__init__()
        self.name = f"gitlab-{tier}"
        self.fake = FakeGitLab(tier=tier, rate_limits=False)
        self.fake.add_group("contract", access=MAINTAINER)  # a group's Maintainer sees its plan (the tier)
        self.fake.add_project(PROJECT)

    def tracker_yaml(self, directory: Path) -> str:
        url = self.fake.url
        return f"{{kind: gitlab, url: '{url}', project: {PROJECT}, requests_per_second: 1000, timeout: 1}}"

    def environment(self) -> dict[str, str]:
        return {"ISO20K_GITLAB_TOKEN": self.fake.token}

    def attach(self, connector: Connector) -> Connector:
        assert isinstance(connector, GitLabConnector)
        self.count_requests(connector.http)
        return connector

    def _ours(self) -> dict[str, Issue]:
        found: dict[str, Issue] = {}
        for issue in self.fake.issues(PROJECT):
            marked = mapping.read_marker(PLAN_KEY, issue.description)
            if marked is None or f"iso20k:{PLAN_KEY}" not in issue.labels:
                continue
            assert marked[0] not in found, f"{marked[0]} is in GitLab twice"
            found[marked[0]] = issue
        return found

    def items(self) -> dict[str, dict[str, Any]]:
        return {
            key: {"title": issue.title, "due": date.fromisoformat(issue.due_date) if issue.due_date else None}
            for key, issue in self._ours().items()
        }

    def links(self) -> set[tuple[str, str]]:
        keys = {issue.id: key for key, issue in self._ours().items()}
        found = set()
        for link in self.fake.links.values():
            if link.source_id in keys and link.target_id in keys:
                source, target = keys[link.source_id], keys[link.target_id]
                found.add((source, target) if link.link_type == "blocks" else (target, source))
        return found

    def notes(self) -> dict[str, str]:
        shown = {}
        for key, issue in self._ours().items():
            bodies = [n.body for n in self.fake.notes_of(PROJECT, issue.iid) if not n.system]
            ours = [b for b in bodies if mapping.status_marker(PLAN_KEY) in b]
            assert len(ours) <= 1, f"{key} has {len(ours)} status notes"
            if ours:
                shown[key] = ours[0]
        return shown

    def stored_title(self, title: str) -> str:
        return mapping.one_line(title)

    def delete(self, key: str) -> None:
        self.fake.delete_issue(PROJECT, self._ours()[key].iid)

    def lose_next_create_answer(self) -> None:
        self.fake.slow_next(3.0, path=f"/projects/{self.fake.project(PROJECT).id}/issues", method="POST")

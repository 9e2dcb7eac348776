"""Jira (Cloud or Data Center) under the contract, on the fake Jira: its operations are requests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from connectors.jira import mapping
from connectors.jira.connector import JiraConnector
from connectors.protocol import Connector

from ..fakes.jira import FakeJira
from ..fakes.kit import RecordedRequest
from .harness import PLAN_KEY, HttpHarness

PLAN_LABEL = mapping.plan_label(PLAN_KEY)


class JiraHarness(HttpHarness):
    features = frozenset({"http", "bulk", "timeout", "links", "phases", "updates"})

    def __init__(self, flavour: str) -> None:
        super().__init__()
        self.name = f"jira-{flavour}"
        self.fake = FakeJira(flavour=flavour)
        self.fake.add_project("CON", name="Contract")
        self.fake.add_issue_type("CON", "Milestone")

    def tracker_yaml(self, directory: Path) -> str:
        email = "email: pm@contract.example, " if self.fake.cloud else ""
        return (
            f"{{kind: jira, url: '{self.fake.url}', project: CON, {email}requests_per_second: 1000, "
            "search_lag: 0, timeout: 1}"
        )

    def environment(self) -> dict[str, str]:
        return {"ISO20K_JIRA_TOKEN": self.fake.token}

    def attach(self, connector: Connector) -> Connector:
        assert isinstance(connector, JiraConnector)
        self.count_requests(connector.http)
        return connector

    def _ours(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for issue in self.fake.issues.values():
            labels = issue["fields"].get("labels") or []
            if PLAN_LABEL not in labels:
                continue
            key = mapping.item_key(PLAN_KEY, labels)
            assert key is not None and key not in found, f"{key} is in Jira twice"
            found[key] = issue
        return found

    def items(self) -> dict[str, dict[str, Any]]:
        items = {}
        for key, issue in self._ours().items():
            fields = issue["fields"]
            due = fields.get("duedate")
            items[key] = {"title": fields["summary"], "due": date.fromisoformat(due) if due else None}
        return items

    def links(self) -> set[tuple[str, str]]:
        by_id = {issue["id"]: key for key, issue in self._ours().items()}
        return {
            (by_id[link.inward_id], by_id[link.outward_id])
            for link in self.fake.links.values()
            if link.inward_id in by_id and link.outward_id in by_id
        }

    def notes(self) -> dict[str, str]:
        shown = {}
        for key, issue in self._ours().items():
            bodies = [mapping.plain_text(c.body) for c in self.fake.issue(issue["key"]).comments]
            ours = [b for b in bodies if b.lstrip().startswith("iso20k-sync status")]
            assert len(ours) <= 1, f"{key} has {len(ours)} status comments"
            if ours:
                shown[key] = ours[0]
        return shown

    def stored_title(self, title: str) -> str:
        return mapping.one_line(title)

    def delete(self, key: str) -> None:
        self.fake.delete_issue(self._ours()[key]["key"])

    def settle(self) -> None:
        self.fake.settle()

    def refuse_titles(self, contains: str | None) -> None:
        self.fake.fail_bulk_element(contains)

    def attempts(self, title_contains: str) -> int:
        return sum(
            title_contains in element["fields"]["summary"]
            for request in self.fake.requests_to("/issue/bulk", "POST")
            for element in request.body["issueUpdates"]
        )

    def lose_next_create_answer(self) -> None:
        self.fake.slow_next(3.0, path="/issue/bulk", method="POST")  # the client gives up after 1 s

    def is_write(self, request: RecordedRequest) -> bool:
        return request.method != "GET" and "/search" not in request.path  # a JQL search POSTs

"""Project Server SE under the contract, on the fake Project Server (NTLM for real): its operations are
requests; what it holds is the published project (what a PM sees)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from connectors.projectserver import mapping
from connectors.projectserver.connector import ProjectServerConnector, project_id
from connectors.protocol import Connector

from ..fakes.projectserver import FakeProjectServer
from .harness import PLAN_KEY, HttpHarness


class ProjectServerHarness(HttpHarness):
    name = "projectserver"
    features = frozenset({"http", "timeout", "links", "phases", "updates"})

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeProjectServer()
        self.pid = project_id(PLAN_KEY)

    def tracker_yaml(self, directory: Path) -> str:
        return (
            f"{{kind: projectserver, url: '{self.fake.site}', project_name: Contract, "
            f"username: '{self.fake.username}', requests_per_second: 1000, timeout: 1, queue_poll: 0.001}}"
        )

    def environment(self) -> dict[str, str]:
        return {"ISO20K_PROJECTSERVER_PASSWORD": self.fake.password}

    def attach(self, connector: Connector) -> Connector:
        assert isinstance(connector, ProjectServerConnector)
        self.count_requests(connector.http)
        return connector

    def _ours(self) -> dict[str, dict[str, Any]]:
        project = self.fake.projects.get(self.pid)
        found: dict[str, dict[str, Any]] = {}
        for task in project.published.tasks.values() if project else []:
            marked = mapping.read_marker(PLAN_KEY, task["Notes"])
            if marked is None:
                continue
            assert marked[0] not in found, f"{marked[0]} is in Project Server twice"
            found[marked[0]] = task
        return found

    def items(self) -> dict[str, dict[str, Any]]:
        return {
            key: {"title": task["Name"], "due": date.fromisoformat(task["Finish"][:10])}
            for key, task in self._ours().items()
        }

    def links(self) -> set[tuple[str, str]]:
        keys = {task["Id"]: key for key, task in self._ours().items()}
        project = self.fake.projects[self.pid]
        return {
            (keys[link["StartId"]], keys[link["EndId"]])
            for link in project.published.links.values()
            if link["StartId"] in keys and link["EndId"] in keys
        }

    def notes(self) -> dict[str, str]:
        shown = {}
        for key, task in self._ours().items():
            if mapping.STATUS_BEGIN in task["Notes"]:
                assert task["Notes"].count(mapping.STATUS_BEGIN) == 1, f"{key} has two status blocks"
                shown[key] = task["Notes"]
        return shown

    def stored_title(self, title: str) -> str:
        return mapping.one_line(title)

    def delete(self, key: str) -> None:
        self.fake.delete_task(self.pid, self._ours()[key]["Id"])

    def lose_next_create_answer(self) -> None:
        self.fake.slow_next(3.0, path="/Draft/Tasks/Add", method="POST")

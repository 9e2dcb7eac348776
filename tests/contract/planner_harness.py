"""Planner premium plans under the contract, on the fake Dataverse (TLS on loopback) with a user signed in
through the device code flow: its operations are Dataverse requests (sign-in requests are not counted)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from connectors.planner import mapping
from connectors.planner.connector import PlannerConnector
from connectors.planner.signin import device_sign_in
from connectors.protocol import Connector

from ..fakes.dataverse import FakeDataverse, loopback_tls
from .harness import PLAN_KEY, HttpHarness

CLIENT = "0f7c2c4e-8d1a-4c55-9a3e-2b6f1d0e9c11"
USER = "pm@contoso.example"
API = "/api/data/"


class PlannerHarness(HttpHarness):
    api_path = API
    name = "planner"
    features = frozenset({"http", "timeout", "links", "phases", "updates"})

    def __init__(self) -> None:
        super().__init__()
        tls, self.ca_file = loopback_tls()
        self.fake = FakeDataverse(tls=tls).start()
        self.fake.add_app(CLIENT)
        self.fake.add_user(USER)
        self.fake.approver = USER

    def tracker_yaml(self, directory: Path) -> str:
        url = self.fake.url
        return (
            f"{{kind: planner, environment_url: '{url}', client_id: {CLIENT}, tenant_id: contoso, "
            f"authority: '{url}', poll_interval: 0.01, requests_per_second: 1000, timeout: 1}}"
        )

    def environment(self) -> dict[str, str]:
        return {"REQUESTS_CA_BUNDLE": self.ca_file}

    def attach(self, connector: Connector) -> Connector:
        assert isinstance(connector, PlannerConnector)
        if connector.auth.username() is None:  # `iso20k-sync login`, once per token cache
            device_sign_in(connector.auth.app(), [connector.settings.scope], lambda message: None)
        self.count_requests(connector.http)
        return connector

    def _ours(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for task in self.fake.project_tasks():
            marked = mapping.read_marker(PLAN_KEY, task["msdyn_description"])
            if marked is None:
                continue
            assert marked[0] not in found, f"{marked[0]} is in Planner twice"
            found[marked[0]] = task
        return found

    def items(self) -> dict[str, dict[str, Any]]:
        return {
            key: {"title": task["msdyn_subject"], "due": date.fromisoformat(task["msdyn_scheduledend"][:10])}
            for key, task in self._ours().items()
        }

    def links(self) -> set[tuple[str, str]]:
        keys = {task["msdyn_projecttaskid"]: key for key, task in self._ours().items()}
        with self.fake.lock:
            pairs = [(d["_msdyn_predecessortask_value"], d["_msdyn_successortask_value"])
                     for d in self.fake.dependencies.values()]  # fmt: skip
        return {(keys[a], keys[b]) for a, b in pairs if a in keys and b in keys}

    def notes(self) -> dict[str, str]:
        shown = {key: mapping.note_of(task["msdyn_description"]) for key, task in self._ours().items()}
        return {key: note for key, note in shown.items() if note is not None}

    def stored_title(self, title: str) -> str:
        return mapping.one_line(title)

    def delete(self, key: str) -> None:
        self.fake.delete_task(self._ours()[key]["msdyn_projecttaskid"])

    def lose_next_create_answer(self) -> None:
        self.fake.slow_next(3.0, path="msdyn_PssCreateV2", method="POST")

"""What the contract suite needs from each tracker: its configuration, a look at what the tracker holds,
and the faults it can inject. One harness per registered tracker kind (and flavour)."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.http import HttpClient
from connectors.protocol import Connector

from ..fakes.kit import FakeServer, RecordedRequest

TEMPLATE = Path(__file__).with_name("contract-plan.yaml")
PLAN_KEY = "contract-2027"


class SimulatedKill(BaseException):
    """The process died right after this operation reached the tracker (not an Exception: nothing in the
    code under test may catch it and carry on)."""


class Harness(ABC):
    """One tracker under the contract."""

    name: str
    features: frozenset[str] = frozenset()
    """Which cases apply: 'http' (Retry-After), 'bulk' (partial bulk failure), 'timeout' (a create whose
    answer is lost), 'links', 'phases', 'updates' (planned values changed in place)."""

    def __init__(self) -> None:
        self.kill_after: int | None = None
        self.operations = 0
        """Operations that reached the tracker: requests, or file reads and saves."""

    @abstractmethod
    def tracker_yaml(self, directory: Path) -> str:
        """The plan's ``tracker:`` section (one line of flow YAML)."""

    def environment(self) -> dict[str, str]:
        return {}

    @abstractmethod
    def attach(self, connector: Connector) -> Connector:
        """Count (and, when armed, kill after) each operation of this connector."""

    @abstractmethod
    def items(self) -> dict[str, dict[str, Any]]:
        """What the tracker holds of the plan, by item key: ``title`` as stored (and more per tracker).
        Raises AssertionError if a key is held twice."""

    def links(self) -> set[tuple[str, str]]:
        return set()

    @abstractmethod
    def notes(self) -> dict[str, str]:
        """The status note shown for each milestone, by key, as the tracker shows it."""

    def stored_title(self, title: str) -> str:
        """How this tracker stores a title (the same text, unless it has limits of its own)."""
        return title

    def writes_since_last_look(self) -> int:
        """Writes that reached the tracker since the last call (trackers that write only changed notes)."""
        raise NotImplementedError

    def attempts(self, title_contains: str) -> int:
        """How many times an item with this title was sent to be created."""
        raise NotImplementedError

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove an item as a person would in the tracker."""

    def settle(self) -> None:  # noqa: B027 - most trackers are consistent at once
        """Let an eventually consistent tracker catch up."""

    def retry_after_next(self, seconds: float) -> None:
        """Answer the next request with 429 and a Retry-After of `seconds`."""
        raise NotImplementedError

    def request_times(self) -> list[tuple[int, float]]:
        raise NotImplementedError

    def refuse_titles(self, contains: str | None) -> None:
        raise NotImplementedError

    def lose_next_create_answer(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def count(self) -> None:
        """Called after each operation reached the tracker."""
        self.operations += 1
        if self.kill_after is not None and self.operations >= self.kill_after:
            self.kill_after = None
            raise SimulatedKill(f"killed after operation {self.operations}")

    @contextlib.contextmanager
    def counting(self) -> Iterator[list[int]]:
        """How many operations the block cost: ``with harness.counting() as cost: ...; cost[0]``."""
        before = self.operations
        cost = [0]
        yield cost
        cost[0] = self.operations - before


class HttpHarness(Harness):
    """A tracker over HTTP, on a fake server: its operations are the requests the connector sends, and the
    fake answers for the faults and the record of what was written."""

    fake: FakeServer
    api_path = ""
    """Requests under this path are the tracker's own (a fake may also serve a sign-in beside them)."""

    def __init__(self) -> None:
        super().__init__()
        self._looked = 0

    def count_requests(self, http: HttpClient) -> None:
        """Every request ``http`` sends is one operation."""
        send = http._send

        def counted(method: str, url: str, **kwargs: Any) -> Any:
            response = send(method, url, **kwargs)
            self.count()
            return response

        http._send = counted

    def is_write(self, request: RecordedRequest) -> bool:
        return request.method != "GET"

    def retry_after_next(self, seconds: float) -> None:
        self.fake.fail_next(status=429, retry_after=seconds, path=self.api_path or None)

    def request_times(self) -> list[tuple[int, float]]:
        return [(r.status, r.time) for r in self.fake.requests if r.path.startswith(self.api_path)]

    def writes_since_last_look(self) -> int:
        now = self.fake.requests
        writes = [r for r in now[self._looked :] if r.path.startswith(self.api_path) and self.is_write(r)]
        self._looked = len(now)
        return len(writes)

    def close(self) -> None:
        self.fake.close()

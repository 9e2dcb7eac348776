"""Operation sets, the schedule API's unit of work: at most 200 operations each, at most 10 open per user,
carried out asynchronously after msdyn_ExecuteOperationSetV1.

One set is open at a time; it is executed when full and when the session commits. An answer lost while
adding to a set (did the operations get in?) is settled by abandoning the set and adding everything again
to a new one: an abandoned set never runs. Sets an earlier run left open (a crash, a kill) are abandoned
before the first new one, and sets still executing are waited for, so a re-read sees what they made.
A failed set applies nothing and says nothing in its status of why: the caller re-reads what exists and
looks for the reason in the set's Project Scheduling Service error log (an administrative log).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import TrackerError, UncertainOutcome
from ..http import HttpError
from .api import COMPLETED, EXECUTING, OPEN, DataverseApi

MAX_OPERATIONS = 200
Operation = tuple[str, list[dict[str, Any]]]
"""("create" | "update", entities): one request adding ``len(entities)`` operations."""


class SetFailed(TrackerError):
    """Dataverse could not carry out a set (none of its operations were applied)."""

    def __init__(self, set_id: str, operations: list[Operation]) -> None:
        self.set_id = set_id
        self.operations = operations
        super().__init__(f"Dataverse could not carry out operation set {set_id}")


class OperationSets:
    def __init__(
        self,
        api: DataverseApi,
        description: str,
        project: Callable[[], str],
        poll_interval: float,
        wait_limit: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.description = description
        self._project = project
        self.poll_interval = poll_interval
        self.wait_limit = wait_limit
        self._sleep = sleep
        self.current: str | None = None
        self.operations: list[Operation] = []
        self.settled = False
        self.largest = 0
        """The most operations one set of this connector held (for tests and benchmarks)."""

    @property
    def size(self) -> int:
        return sum(len(entities) for _, entities in self.operations)

    def add(self, kind: str, entities: Sequence[dict[str, Any]]) -> None:
        """Add operations to the open set (opened, or executed and replaced when full)."""
        if self.current is not None and self.size + len(entities) > MAX_OPERATIONS:
            self.execute()
        if self.current is None:
            self._open()
        operation: Operation = (kind, list(entities))
        try:
            self._send(operation)
        except UncertainOutcome:
            self._start_over()
            self._send(operation)
        self.operations.append(operation)
        self.largest = max(self.largest, self.size)

    def execute(self) -> None:
        """Run the open set and wait until Dataverse has carried it out (:class:`SetFailed` if it could
        not)."""
        set_id, operations = self.current, self.operations
        if set_id is None:
            return
        self.current, self.operations = None, []
        with contextlib.suppress(UncertainOutcome):  # the status says whether it ran
            self.api.execute(set_id)
        status = self.wait(set_id)
        if status == OPEN:  # the execute never arrived
            self.api.execute(set_id)
            status = self.wait(set_id)
        if status != COMPLETED:
            raise SetFailed(set_id, operations)

    def abandon(self) -> None:
        """Drop the open set's operations (best effort: a set left open is abandoned by the next run)."""
        set_id, self.current, self.operations = self.current, None, []
        if set_id is not None:
            with contextlib.suppress(TrackerError):
                self.api.abandon(set_id)

    def settle(self) -> None:
        """Abandon our sets an earlier run left open, and wait for ours still executing (once per run)."""
        if self.settled:
            return
        for found in self.api.operation_sets(self._project(), self.description):
            set_id = str(found["msdyn_operationsetid"])
            if found.get("msdyn_status") == OPEN:
                self.api.abandon(set_id)
            else:
                self.wait(set_id)
        self.settled = True

    def wait(self, set_id: str) -> int:
        """Poll the set until it is settled (or still open: never executed); its status."""
        deadline = time.monotonic() + self.wait_limit
        delay = 0.0
        while True:
            self._sleep(delay)
            status = int(self.api.operation_set(set_id).get("msdyn_status") or 0)
            if status != EXECUTING:
                return status
            if time.monotonic() > deadline:
                raise TrackerError(
                    f"operation set {set_id} is still being carried out by Dataverse after "
                    f"{self.wait_limit:.0f} s; run again later: the next run waits for it first"
                )
            delay = min(max(self.poll_interval, delay * 2), 10 * self.poll_interval)

    # --- helpers --------------------------------------------------------------------------------------

    def _open(self) -> None:
        self.settle()
        try:
            self.current = self.api.create_operation_set(self._project(), self.description)
        except UncertainOutcome:  # a set may have been made: abandon it with the other stale ones
            self.settled = False
            self.settle()
            self.current = self.api.create_operation_set(self._project(), self.description)
        except HttpError as exc:
            raise TrackerError(f"Dataverse refused to open an operation set: {exc.message}") from None

    def _send(self, operation: Operation) -> None:
        kind, entities = operation
        assert self.current is not None
        (self.api.create if kind == "create" else self.api.update)(self.current, entities)

    def _start_over(self) -> None:
        """Whether the last operations got into the set is unknown: abandon it, add all again to a new one."""
        earlier = self.operations
        self.abandon()
        self._open()
        for operation in earlier:
            self._send(operation)
        self.operations = list(earlier)


__all__ = ["MAX_OPERATIONS", "OperationSets", "SetFailed"]

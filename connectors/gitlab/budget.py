"""Per-minute budgets (gitlab.com: 100 requests a minute on Free, 200 issues created a minute), kept per
site for every plan in the process, on top of the shared pacer's requests_per_second."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ..http import Pacer

WINDOW = 60.0


class MinuteBudget:
    """At most ``limit`` turns in any rolling minute (None: no limit); waits for a free turn."""

    def __init__(
        self,
        limit: int | None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._taken: deque[float] = deque()

    def take(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._taken and self._taken[0] <= now - WINDOW:
                    self._taken.popleft()
                if self.limit is None or len(self._taken) < self.limit:
                    self._taken.append(now)
                    return
                wait = self._taken[len(self._taken) - self.limit] + WINDOW - now
            self._sleep(max(wait, 0.001))


class BudgetedPacer(Pacer):
    """The site's pacer (pacing and Retry-After), after a turn of a per-minute budget."""

    def __init__(self, site: Pacer, budget: MinuteBudget) -> None:
        super().__init__(site.min_interval)
        self.site = site
        self.budget = budget

    def wait_turn(self) -> None:
        self.budget.take()
        self.site.wait_turn()

    def hold(self, seconds: float) -> None:
        self.site.hold(seconds)


_budgets: dict[tuple[str, str], MinuteBudget] = {}
_lock = threading.Lock()


def budget_for(site: str, what: str, limit: int | None) -> MinuteBudget:
    """The one budget of ``what`` ("requests", "creates") on ``site``; its limit is the latest asked."""
    with _lock:
        budget = _budgets.setdefault((site.lower(), what), MinuteBudget(limit))
        budget.limit = limit
        return budget

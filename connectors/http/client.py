"""HTTP behaviour every connector shares, written once: timeouts, a User-Agent, pacing, retries that honour
Retry-After exactly, exponential backoff with jitter, and error messages with the server's own words and
no secrets.

What is retried, and why:
- 429 and 503: the server did not do the work and says when to come back. Retry-After is honoured exactly,
  never earlier, also by every other thread and client sharing the same :class:`Pacer`. Any method is
  retried. Without a Retry-After header the wait backs off exponentially. A wait longer than the
  configured ceiling ends the run with :class:`~connectors.errors.WaitTooLong` instead of a day's sleep.
- 500, 502, 504, timeouts and dropped connections: retried with backoff for idempotent methods only. A POST
  or PATCH that may have reached the server is not repeated (it could create an item twice): it raises
  :class:`~connectors.errors.UncertainOutcome` and the connector looks the item up by its key. A request
  whose connection was never made is retried whatever its method.
- 400, 401, 403, 404 and other client errors: never retried; reported with the server's message.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from .. import product
from ..errors import TrackerError, UncertainOutcome, WaitTooLong

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_AFTER_STATUSES = frozenset({429, 503})
TRANSIENT_STATUSES = frozenset({500, 502, 504})

Send = Callable[..., requests.Response]
"""``send(method, url, **kwargs) -> Response``: a requests-style call (a Session's ``request``)."""


@cache
def user_agent() -> str:
    return product().replace(" ", "/")


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server (so even a POST may be sent again)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _odata_message(error: dict[str, Any]) -> str:
    """An OData error's message on one line: a string (OData 4: Dataverse, Graph) or ``{"lang", "value"}``
    (OData 3: SharePoint and Project Server's ``odata.error``)."""
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    return " ".join(str(message or error.get("code") or "").split())


def cause(exc: BaseException) -> str:
    """The innermost reason of a requests error, as words (urllib3 nests them several deep)."""
    text = str(exc)
    for phrase, words in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("Network is unreachable", "network unreachable"),
        ("No route to host", "no route to host"),
        ("Connection reset", "connection reset"),
        ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate could not be verified"),
    ):
        if phrase in text:
            return words
    return type(exc).__name__


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class HttpError(TrackerError):
    """The tracker answered with an error; ``message`` is its own explanation, secrets removed."""

    def __init__(self, status: int, method: str, url: str, message: str, details: Any = None) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.message = message
        self.details = details
        """The decoded JSON answer, for callers that read structured errors (never shown as is)."""
        super().__init__(f"{method} {url} answered {status}: {message}")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 600.0
    """A server asking to wait longer than this is reported instead of waited for."""


class Pacer:
    """When the next request to one site may go: the pacing interval and any Retry-After, shared by every
    thread and client that talks to the site, so parallel work does not provoke 429s."""

    def __init__(
        self,
        min_interval: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_interval = min_interval
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._not_before = 0.0

    def wait_turn(self) -> None:
        """Block until a request may be sent: after any Retry-After and the pacing interval."""
        while True:
            with self._lock:
                now = self._clock()
                if now >= self._not_before:
                    self._not_before = now + self.min_interval
                    return
                wait = self._not_before - now
            self._sleep(wait)

    def hold(self, seconds: float) -> None:
        """No request from anyone before ``seconds`` from now (a Retry-After or a backoff)."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)


class HttpClient:
    """Requests to one tracker, paced and retried the same way for every connector."""

    def __init__(
        self,
        base_url: str,
        send: Send,
        *,
        name: str = "the tracker",
        secrets: Iterable[str] = (),
        timeout: tuple[float, float] = (10.0, 60.0),
        min_interval: float = 0.0,
        retry: RetryPolicy = RetryPolicy(),
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self._send = send
        self._secrets = [s for s in secrets if s]
        self.timeout = timeout
        self.retry = retry
        self.pacer = pacer or Pacer(min_interval, sleep, clock)
        self._rng = rng or random.Random()
        self._count_lock = threading.Lock()
        self.requests_sent = 0
        self.throttled = 0
        """Answers of 429 or 503 (for the service's metrics)."""

    # --- public -------------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.json("GET", path, params=params)

    def post(self, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.json("POST", path, params=params, body=body)

    def put(self, path: str, body: Any = None) -> Any:
        return self.json("PUT", path, body=body)

    def json(self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        """Send a request and decode the JSON answer (``None`` for an empty one)."""
        return self.decode(self.request(method, path, params=params, body=body), method, path)

    def decode(self, response: requests.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise HttpError(
                response.status_code, method, self._redact(path), "the answer is not JSON"
            ) from None

    def request(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> requests.Response:
        method = method.upper()
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        shown = self._redact(path)
        for attempt in range(1, self.retry.max_attempts + 1):
            self.pacer.wait_turn()
            with self._count_lock:
                self.requests_sent += 1
            try:
                response = self._send(
                    method,
                    url,
                    params=params,
                    json=body,
                    timeout=self.timeout,
                    headers={"User-Agent": user_agent(), "Accept": "application/json"},
                )
            except requests.RequestException as exc:
                retry = method in IDEMPOTENT or _never_sent(exc)
                if not retry:
                    raise UncertainOutcome(
                        f"{method} {shown} may or may not have reached {self.name}: {self._why(exc)}"
                    ) from None
                if attempt == self.retry.max_attempts:
                    raise TrackerError(
                        f"{method} {shown} failed {attempt} times: {self._why(exc)}"
                    ) from None
                self.pacer.hold(self._backoff(attempt))
                continue
            status = response.status_code
            if status < 400:
                return response
            if status in RETRY_AFTER_STATUSES:
                with self._count_lock:
                    self.throttled += 1
            if status in RETRY_AFTER_STATUSES and attempt < self.retry.max_attempts:
                wait = self._retry_after(response)
                if wait is None:
                    wait = self._backoff(attempt)
                if wait > self.retry.max_retry_after:
                    until = (datetime.now(UTC) + timedelta(seconds=wait)).strftime("%Y-%m-%d %H:%M UTC")
                    raise WaitTooLong(
                        f"{self.name} answered {status} to {method} {shown} and asked to wait {wait:.0f} s "
                        f"(Retry-After), longer than the {self.retry.max_retry_after:.0f} s allowed "
                        f"(max_retry_wait); stopped instead of waiting: run again after {until}"
                    )
                self.pacer.hold(wait)
                continue
            if status in TRANSIENT_STATUSES and method in IDEMPOTENT and attempt < self.retry.max_attempts:
                self.pacer.hold(self._backoff(attempt))
                continue
            raise HttpError(status, method, shown, self._message(response), _json_or_none(response))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- waiting ------------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.retry.backoff_max, self.retry.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(ceiling / 2, ceiling)  # "equal jitter": never zero, never more than the cap

    @staticmethod
    def _retry_after(response: requests.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                moment = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            return max(0.0, moment.timestamp() - time.time())

    # --- messages -----------------------------------------------------------------------------------

    def _message(self, response: requests.Response) -> str:
        """The server's own explanation: Jira's errorMessages/errors, GitLab's message/error, OData's error
        message (Dataverse, Graph, Project Server), or text."""
        try:
            data = response.json()
        except ValueError:
            text = response.text.strip() or response.reason or "no explanation"
            return self._redact(text[:500])
        parts: list[str] = []
        if isinstance(data, dict):
            parts += [str(m) for m in data.get("errorMessages") or []]
            errors = data.get("errors")
            if isinstance(errors, dict):
                parts += [f"{field}: {text}" for field, text in errors.items()]
            for key in ("message", "error", "error_description", "odata.error"):
                value = data.get(key)
                if key.endswith("error") and isinstance(value, dict) and "message" in value:
                    parts.append(_odata_message(value))
                elif key != "odata.error" and isinstance(value, str | dict | list):
                    parts.append(str(value))
        return self._redact("; ".join(parts)[:1000] or str(data)[:500])

    def _why(self, exc: requests.RequestException) -> str:
        """Why a request got no answer, for a person: what happened and what to check."""
        if isinstance(exc, requests.Timeout):
            limit = self.timeout[-1] if isinstance(self.timeout, tuple) else self.timeout
            return f"{self.name} at {self.base_url} did not answer within {limit:g} s"
        if isinstance(exc, requests.exceptions.SSLError):
            return f"TLS with {self.name} at {self.base_url} failed ({cause(exc)}); check the url"
        if isinstance(exc, requests.ConnectionError):
            return (
                f"cannot reach {self.name} at {self.base_url} ({cause(exc)}); check the url and the network"
            )
        return f"{type(exc).__name__}: {self._redact(str(exc))}"

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

"""A small kit for fake HTTP servers in tests; a tracker fake subclasses :class:`FakeServer`, registers
routes (``self.route("GET", "/api/{v:1|2}/thing/{name}", handler)``) and calls ``self.start()``.

One ``ThreadingHTTPServer`` on 127.0.0.1 (port 0, daemon thread, HTTP/1.1 keep-alive with Content-Length):
routing, JSON bodies, recorded requests (credentials left out), latency, queued faults (an error status before
or after the work, a dropped connection or a slow answer after it), a rolling-window rate limiter, a clock
(real or :class:`ManualClock`) and an eventually consistent :class:`Timeline`. Handlers run holding
``self.lock`` (one lock guards all state); latency and slow answers wait outside it.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

Clock = Callable[[], datetime]
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_MESSAGES = {429: "Rate limit exceeded.", 503: "Service unavailable."}


class ManualClock:
    """A clock that moves only when told to, so tests advance time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime(2027, 1, 4, 9, 0, tzinfo=UTC)).astimezone(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock.set needs an aware datetime")
        with self._lock:
            self._now = moment.astimezone(UTC)

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move on by ``seconds`` (and/or ``minutes=``, ``hours=``, ``days=``); the new time."""
        with self._lock:
            self._now += timedelta(seconds=seconds, **delta)
            return self._now


class Timeline:
    """Eventual consistency: each object's recorded states, seen by a reader ``lag`` seconds late."""

    def __init__(self, clock: Clock, keep: float = 600.0) -> None:
        self.clock, self.keep = clock, keep
        self._states: dict[str, list[tuple[float, Any]]] = {}

    def record(self, key: str, state: Any) -> None:
        """The object's new state (None: it is gone) as of now."""
        now = self.clock().timestamp()
        (states := self._states.setdefault(key, [])).append((now, state))
        old = [n for n, (stamp, _) in enumerate(states) if stamp <= now - self.keep]
        del states[: old[-1] if old else 0]

    def settle(self) -> None:
        """Make every object's latest state visible at once."""
        for key, states in list(self._states.items()):
            self._states[key] = [(float("-inf"), states[-1][1])]

    def visible(self, lag: float) -> dict[str, Any]:
        """Each object's state as it was ``lag`` seconds ago (left out: not there yet, or gone)."""
        horizon, seen = self.clock().timestamp() - lag, {}
        for key, states in self._states.items():
            seen[key] = next((state for stamp, state in reversed(states) if stamp <= horizon), None)
        return {key: state for key, state in seen.items() if state is not None}


@dataclass
class Reply:
    """An answer: status, JSON body (None: no body) and extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised by a handler to answer with this status, body and headers."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}: {body!r}")
        self.reply = Reply(status, body, dict(headers or {}))


@dataclass
class Call:
    """A routed request as a handler sees it (``headers`` still hold credentials; records do not)."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def credentials(self, scheme: str) -> str | None:
        """What follows ``scheme`` in the Authorization header (``Basic`` ones decoded), or None."""
        kind, _, value = (self.header("Authorization") or "").partition(" ")
        if kind.lower() != scheme.lower() or kind.lower() != "basic":
            return value.strip() if kind.lower() == scheme.lower() else None
        try:
            return base64.b64decode(value.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def arg(self, name: str) -> str | None:
        return (self.query.get(name) or [None])[0]

    def args(self, name: str) -> list[str]:
        """Every value of a query parameter, comma-separated lists split."""
        return [p.strip() for v in self.query.get(name, []) for p in v.split(",") if p.strip()]


@dataclass
class RecordedRequest:
    """A request as it arrived; ``status`` is the answer sent (0: none, the connection was dropped)."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    time: float
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None  # "status", "drop", "slow" or "rate-limit" when one shaped the answer


@dataclass
class Fault:
    """A misbehaviour for the next ``count`` requests matching ``method`` and ``path`` (a substring)."""

    kind: str  # "status" | "drop" | "slow"
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    count: int = 1
    path: str | None = None
    method: str | None = None
    after_processing: bool = False
    delay: float = 0.0


class RateLimiter:
    """Admits at most ``limit`` requests in any rolling ``window`` seconds of ``timer``."""

    def __init__(self, limit: int, window: float = 1.0, *, retry_after: float | None = 1.0,
                 timer: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.limit, self.window, self.timer = limit, window, timer
        self.headers = {} if retry_after is None else {"Retry-After": seconds_header(retry_after)}
        self._admitted: deque[float] = deque()

    def admit(self) -> bool:
        now = self.timer()
        while self._admitted and self._admitted[0] <= now - self.window:
            self._admitted.popleft()
        if len(self._admitted) >= self.limit:
            return False
        self._admitted.append(now)
        return True


def seconds_header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def compile_template(template: str) -> re.Pattern[str]:
    """``/a/{name}/b/{v:1|2}`` as a regex: ``{name}`` is one path segment, ``{name:regex}`` constrained."""
    parts, pos = [], 0
    for match in re.finditer(r"\{(\w+)(?::([^{}]+))?\}", template):
        parts += [re.escape(template[pos : match.start()]), f"(?P<{match[1]}>{match[2] or '[^/]+'})"]
        pos = match.end()
    return re.compile("^" + "".join(parts) + re.escape(template[pos:]) + "/?$")


class FakeServer:
    """The server a fake builds on; see the module docstring."""

    def __init__(self, *, clock: Clock | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.clock: Clock = clock or (lambda: datetime.now(UTC))  # real time unless told otherwise
        self.tls = tls
        """Serve over TLS with this server context (``url`` is then https): for clients that accept
        nothing else, as msal accepts only an https authority."""
        self.lock = threading.RLock()
        self.latency = 0.0
        self.requests: list[RecordedRequest] = []
        self.url = ""
        self._routes: list[tuple[str, re.Pattern[str], Callable[[Call], Reply], bool]] = []
        self._faults: list[Fault] = []
        self._limiter: RateLimiter | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Serve on a free loopback port (idempotent); ``url`` is set from then on."""
        if self._httpd is None:
            self._httpd = _HTTPServer(self)
            scheme = "http"
            if self.tls is not None:  # wrapped before the first connection: nobody knows the port yet
                self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
                scheme = "https"
            self.url = f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=type(self).__name__, daemon=True)  # fmt: skip
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            self._thread.join(timeout=5)  # type: ignore[union-attr]  # set together with _httpd

    close = stop

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what a fake provides ----------------------------------------------------------------------------
    def route(self, method: str, template: str, handler: Callable[[Call], Reply], *,
              public: bool = False) -> None:  # fmt: skip
        """Answer ``method`` on paths matching ``template`` with ``handler``; the first match wins."""
        self._routes.append((method.upper(), compile_template(template), handler, public))

    def authorize(self, call: Call) -> None:
        """Raise :class:`ApiError` to refuse a request to a route that is not public (default: allow)."""

    def error_body(self, status: int, message: str) -> Any:
        """How this fake words the errors the kit answers (404, 405, malformed JSON, faults)."""
        return {"error": message}

    # -- knobs for tests ---------------------------------------------------------------------------------
    def fail_next(self, status: int = 429, retry_after: float | None = None, count: int = 1, *,
                  path: str | None = None, method: str | None = None, after_processing: bool = False,
                  body: Any = None, headers: dict[str, str] | None = None) -> None:  # fmt: skip
        """Answer the next ``count`` matching requests with ``status`` (Retry-After only when given: else no
        header at all). With ``after_processing`` the request is carried out and only its answer replaced."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = seconds_header(retry_after)
        self._queue(Fault("status", status, extra, body, count, path, method, after_processing))

    def drop_next(self, count: int = 1, *, path: str | None = None, method: str | None = None) -> None:
        """Carry out the next ``count`` matching requests, then close the connection unanswered."""
        self._queue(Fault("drop", count=count, path=path, method=method, after_processing=True))

    def slow_next(self, seconds: float, count: int = 1, *, path: str | None = None,
                  method: str | None = None) -> None:  # fmt: skip
        """Carry out the next ``count`` matching requests at once but answer only ``seconds`` later."""
        self._queue(Fault("slow", count=count, path=path, method=method, after_processing=True,
                          delay=seconds))  # fmt: skip

    def rate_limit(self, limit: int | None, window: float = 1.0, *,
                   retry_after: float | None = 1.0) -> None:  # fmt: skip
        """Beyond ``limit`` requests in any rolling ``window`` seconds of the fake's clock answer 429, with
        Retry-After or (``retry_after=None``) no header; ``None`` lifts the limit."""
        with self.lock:
            self._limiter = (
                None
                if limit is None
                else RateLimiter(
                    limit, window, retry_after=retry_after, timer=lambda: self.clock().timestamp()
                )
            )

    def requests_to(self, path_contains: str, method: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            wanted = (method or "").upper()
            return [r for r in self.requests if path_contains in r.path and r.method == (wanted or r.method)]

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    # -- dispatch (handler threads) ----------------------------------------------------------------------
    def _queue(self, fault: Fault) -> None:
        with self.lock:
            self._faults.append(fault)

    def _handle(self, method: str, target: str, raw: bytes,
                headers: dict[str, str]) -> tuple[Reply | None, float]:  # fmt: skip
        """The reply to send (None: drop the connection) and how long to wait before sending it."""
        split = urlsplit(target)
        path, query = unquote(split.path), parse_qs(split.query, keep_blank_values=True)
        body, problem = _decode(raw)
        safe = {k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS}
        record = RecordedRequest(method, path, query, body, time.monotonic(), headers=safe)
        with self.lock:
            self.requests.append(record)
        if self.latency > 0:
            time.sleep(self.latency)
        with self.lock:
            fault = next((f for f in self._faults if (f.method or method).upper() == method
                          and (f.path is None or f.path in path)), None)  # fmt: skip
            if fault is not None:
                fault.count -= 1
                self._faults = [f for f in self._faults if f.count > 0]
                record.fault = fault.kind
            if fault is not None and not fault.after_processing:
                reply = self._fault_reply(fault)
            elif self._limiter is not None and not self._limiter.admit():
                record.fault = "rate-limit"
                reply = Reply(429, self.error_body(429, _MESSAGES[429]), dict(self._limiter.headers))
            else:
                reply = self._dispatch(Call(method, path, {}, query, body, headers), problem)
                reply = self._fault_reply(fault) if fault is not None and fault.kind == "status" else reply
            dropped = fault is not None and fault.kind == "drop"
            record.status = 0 if dropped else reply.status
        return (None if dropped else reply), (fault.delay if fault is not None else 0.0)

    def _dispatch(self, call: Call, problem: str | None) -> Reply:
        allowed = set()
        for method, pattern, handler, public in self._routes:
            if (match := pattern.match(call.path)) is None:
                continue
            if method != call.method:
                allowed.add(method)
                continue
            call.params = match.groupdict()
            try:
                if not public:
                    self.authorize(call)
                if problem is not None:
                    raise ApiError(400, self.error_body(400, problem))
                return handler(call)
            except ApiError as error:
                return error.reply
            except Exception as error:  # a bug in the fake: answer it rather than leave the client hanging
                return Reply(500, self.error_body(500, f"Fake server error: {error!r}"))
        if allowed:
            message = f"Method {call.method} is not allowed for {call.path}."
            return Reply(405, self.error_body(405, message), {"Allow": ", ".join(sorted(allowed))})
        return Reply(404, self.error_body(404, f"No resource exists at {call.path}."))

    def _fault_reply(self, fault: Fault) -> Reply:
        message = _MESSAGES.get(fault.status, f"Injected HTTP {fault.status}.")
        return Reply(fault.status, fault.body or self.error_body(fault.status, message), dict(fault.headers))


def _decode(raw: bytes) -> tuple[Any, str | None]:
    """The JSON body (None when empty) and, when it is not JSON, what is wrong with it."""
    if not raw:
        return None, None
    try:
        return json.loads(raw.decode("utf-8", "replace")), None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        return raw.decode("utf-8", "replace"), f"Unexpected character in the JSON body at {where}."


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # keep-alive connections and slow answers must not hold up stop()

    def __init__(self, fake: FakeServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    disable_nagle_algorithm = True  # else each keep-alive answer waits ~40 ms for a delayed ACK
    server: _HTTPServer

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        reply, delay = self.server.fake._handle(self.command, self.path, raw, dict(self.headers.items()))
        if reply is None:  # the work is done, the answer never comes
            self.close_connection = True
            return
        time.sleep(delay)
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        try:
            self.send_response_only(reply.status)
            if payload:
                self.send_header("Content-Type", "application/json;charset=UTF-8")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.status not in (204, 304):
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up, e.g. its read timeout passed during a slow answer
            self.close_connection = True

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``FakeServer.requests``."""

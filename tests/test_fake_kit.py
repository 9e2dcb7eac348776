"""The fake-server kit's own behaviours, with plain ``requests`` against a tiny fake built on it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from .fakes.kit import ApiError, Call, FakeServer, ManualClock, Reply, Timeline


class FakeNotes(FakeServer):
    """A minimal tracker fake: notes you can create and read; the token "t" is required except on /ping."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        super().__init__(clock=clock)
        self.notes: dict[str, str] = {}
        self.route("GET", "/ping", lambda call: Reply(200, {"pong": True}), public=True)
        self.route("GET", "/api/{version:1|2}/notes/{note}", self._get)
        self.route("POST", "/api/{version:1|2}/notes", self._create)
        self.route("GET", "/api/{version:1|2}/boom", lambda call: Reply(200, {"x": 1 / 0}))
        self.start()

    def authorize(self, call: Call) -> None:
        if call.credentials("Bearer") != "t":
            raise ApiError(401, {"message": "who are you?"})

    def error_body(self, status: int, message: str) -> dict[str, str]:
        return {"message": message}

    def _get(self, call: Call) -> Reply:
        if call.params["note"] not in self.notes:
            raise ApiError(404, {"message": "no such note"}, {"X-Why": "missing"})
        return Reply(200, {"text": self.notes[call.params["note"]], "version": call.params["version"]})

    def _create(self, call: Call) -> Reply:
        if not isinstance(call.body, dict) or not isinstance(call.body.get("text"), str):
            raise ApiError(400, {"message": "text is required"})
        key = str(len(self.notes) + 1)
        self.notes[key] = call.body["text"]
        return Reply(201, {"id": key, "tags": call.args("tags"), "mode": call.arg("mode")})


@pytest.fixture
def fake() -> Iterator[FakeNotes]:
    with FakeNotes() as server:
        yield server


def client() -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer t"
    return session


def test_routing_answers_404_for_unknown_paths_and_405_with_allow(fake: FakeNotes) -> None:
    http = client()
    assert http.get(f"{fake.url}/ping").json() == {"pong": True}
    missing = http.get(f"{fake.url}/api/3/notes/1")  # the version segment only takes 1 or 2
    assert missing.status_code == 404 and missing.json() == {
        "message": "No resource exists at /api/3/notes/1."
    }
    wrong = http.delete(f"{fake.url}/api/1/notes")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    assert "DELETE" in wrong.json()["message"]
    created = http.post(f"{fake.url}/api/2/notes?tags=a,b&tags=c&mode=fast", json={"text": "hello"})
    assert created.status_code == 201 and created.json() == {
        "id": "1",
        "tags": ["a", "b", "c"],
        "mode": "fast",
    }
    note = http.get(f"{fake.url}/api/2/notes/1")
    assert note.json() == {"text": "hello", "version": "2"}
    absent = http.get(f"{fake.url}/api/1/notes/9")
    assert (absent.status_code, absent.headers["X-Why"]) == (404, "missing")
    assert requests.get(f"{fake.url}/api/1/notes/1").status_code == 401  # not public: authorize() refuses
    bug = http.get(f"{fake.url}/api/1/boom")
    assert bug.status_code == 500 and "ZeroDivisionError" in bug.json()["message"]


def test_malformed_json_is_a_400_the_fake_words(fake: FakeNotes) -> None:
    response = client().post(
        f"{fake.url}/api/1/notes", data=b'{"text": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("Unexpected character in the JSON body at line 1")
    assert fake.notes == {}


def test_keep_alive_connections_are_reused(fake: FakeNotes) -> None:
    http = client()
    for _ in range(3):
        response = http.get(f"{fake.url}/ping")
        assert response.headers["Content-Length"] == str(len(response.content))
    assert len(http.get_adapter(fake.url).poolmanager.pools) == 1


def test_requests_are_recorded_without_credentials(fake: FakeNotes) -> None:
    http = client()
    http.headers["Cookie"] = "session=secret-cookie"
    http.post(f"{fake.url}/api/1/notes?mode=x", json={"text": "a"})
    http.get(f"{fake.url}/api/1/notes/1")
    [record] = fake.requests_to("/notes", method="post")
    assert (record.method, record.path, record.query, record.body, record.status) == (
        "POST", "/api/1/notes", {"mode": ["x"]}, {"text": "a"}, 201,
    )  # fmt: skip
    assert {"authorization", "cookie"}.isdisjoint(name.lower() for name in record.headers)
    assert "secret-cookie" not in str(fake.requests) and "Bearer" not in str(fake.requests)
    assert [r.method for r in fake.requests_to("/notes")] == ["POST", "GET"]
    assert fake.requests[0].time <= fake.requests[1].time
    fake.clear_requests()
    assert fake.requests == []


def test_latency_delays_every_answer(fake: FakeNotes) -> None:
    fake.latency = 0.2
    started = time.monotonic()
    assert requests.get(f"{fake.url}/ping").status_code == 200
    assert time.monotonic() - started >= 0.2
    assert fake.requests[0].time - started < 0.2  # recorded on arrival, before the delay


def test_status_faults_with_and_without_retry_after(fake: FakeNotes) -> None:
    http = client()
    fake.fail_next(429, retry_after=2)
    fake.fail_next(429, path="/notes")  # no Retry-After: no header at all
    fake.fail_next(503, retry_after=1.5, method="POST")
    fake.fail_next(502, count=2, path="/ping")
    first = http.get(f"{fake.url}/api/1/notes/1")
    assert (first.status_code, first.headers["Retry-After"]) == (429, "2")
    assert first.json() == {"message": "Rate limit exceeded."}
    bare = http.get(f"{fake.url}/api/1/notes/1")
    assert bare.status_code == 429 and set(bare.headers) <= {"Content-Length", "Content-Type"}
    unavailable = http.post(f"{fake.url}/api/1/notes", json={"text": "x"})
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "1.5")
    assert fake.notes == {}  # refused before the work
    assert [http.get(f"{fake.url}/ping").status_code for _ in range(3)] == [502, 502, 200]
    assert [r.fault for r in fake.requests] == ["status"] * 5 + [None]


def test_fault_after_processing_does_the_work_and_replaces_the_answer(fake: FakeNotes) -> None:
    fake.fail_next(500, path="/notes", method="POST", after_processing=True, body={"message": "oops"})
    response = client().post(f"{fake.url}/api/1/notes", json={"text": "kept"})
    assert response.status_code == 500 and response.json() == {"message": "oops"}
    assert fake.notes == {"1": "kept"}
    assert fake.requests[-1].status == 500


def test_dropped_connection_after_the_work_is_committed(fake: FakeNotes) -> None:
    fake.drop_next(path="/notes", method="POST")
    http = client()
    with pytest.raises(requests.ConnectionError):
        http.post(f"{fake.url}/api/1/notes", json={"text": "committed"})
    assert fake.notes == {"1": "committed"}
    assert (fake.requests[-1].status, fake.requests[-1].fault) == (0, "drop")
    assert http.get(f"{fake.url}/api/1/notes/1").json()["text"] == "committed"  # the server goes on


def test_slow_answer_times_out_a_client_although_the_work_is_done(fake: FakeNotes) -> None:
    fake.slow_next(0.6, path="/notes")
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        client().post(f"{fake.url}/api/1/notes", json={"text": "late"}, timeout=0.2)
    assert time.monotonic() - started < 0.5
    assert fake.notes == {"1": "late"}
    slow_but_patient = FakeNotes()
    with slow_but_patient:
        slow_but_patient.slow_next(0.3)
        started = time.monotonic()
        assert client().get(f"{slow_but_patient.url}/ping", timeout=5).status_code == 200
        assert time.monotonic() - started >= 0.3


def test_rate_limiter_with_retry_after_or_no_header() -> None:
    clock = ManualClock()
    with FakeNotes(clock=clock) as fake:
        fake.rate_limit(3, window=10)
        http = client()
        statuses = [http.get(f"{fake.url}/ping") for _ in range(5)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
        assert statuses[3].headers["Retry-After"] == "1" and fake.requests[-1].fault == "rate-limit"
        clock.advance(10)  # the window rolls on with the fake's clock
        assert http.get(f"{fake.url}/ping").status_code == 200
        fake.rate_limit(1, window=60, retry_after=None)
        assert http.get(f"{fake.url}/ping").status_code == 200
        refused = http.get(f"{fake.url}/ping")
        assert refused.status_code == 429 and "Retry-After" not in refused.headers
        fake.rate_limit(None)
        assert http.get(f"{fake.url}/ping").status_code == 200


def test_manual_clock_and_timeline() -> None:
    start = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    clock = ManualClock(start)
    assert clock() == start and clock().tzinfo is not None
    assert clock.advance(90) == start + timedelta(seconds=90)
    assert clock.advance(minutes=1, hours=1) == start + timedelta(hours=1, minutes=2, seconds=30)
    clock.set(start)
    with pytest.raises(ValueError):
        clock.set(datetime(2027, 3, 1))
    timeline = Timeline(clock)
    timeline.record("a", "v1")
    clock.advance(5)
    timeline.record("a", "v2")
    timeline.record("b", "new")
    assert timeline.visible(lag=0) == {"a": "v2", "b": "new"}
    assert timeline.visible(lag=3) == {"a": "v1"}  # b did not exist 3 seconds ago
    timeline.record("a", None)
    assert timeline.visible(lag=0) == {"b": "new"}
    timeline.record("c", "fresh")
    timeline.settle()
    assert timeline.visible(lag=1000) == {"b": "new", "c": "fresh"}


def test_real_clock_by_default(fake: FakeNotes) -> None:
    assert abs((fake.clock() - datetime.now(UTC)).total_seconds()) < 5

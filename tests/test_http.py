"""The shared HTTP behaviour, one call at a time (``responses``), with a fake clock."""

from __future__ import annotations

import pytest
import requests
import responses

from connectors.errors import TrackerError, UncertainOutcome, WaitTooLong
from connectors.http import HttpClient, HttpError, Pacer, RetryPolicy, pacer_for

BASE = "https://tracker.example"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


def client(clock: Clock, **kwargs) -> HttpClient:
    return HttpClient(
        BASE, requests.Session().request, sleep=clock.sleep, clock=clock, secrets=["t0ken"], **kwargs
    )


@responses.activate
def test_retry_after_is_waited_in_full_before_the_next_request(clock):
    seen: list[float] = []

    def answer(request):
        seen.append(clock.now)
        if len(seen) == 1:
            return 429, {"Retry-After": "7"}, '{"errorMessages": ["Rate limit exceeded"]}'
        return 200, {}, '{"ok": true}'

    responses.add_callback(responses.GET, f"{BASE}/rest/api/2/field", callback=answer)
    assert client(clock).get("/rest/api/2/field") == {"ok": True}
    assert seen[1] - seen[0] >= 7


@responses.activate
def test_a_post_is_retried_after_429_and_503_but_not_after_500(clock):
    responses.add(responses.POST, f"{BASE}/bulk", status=503, headers={"Retry-After": "1"})
    responses.add(responses.POST, f"{BASE}/bulk", json={"issues": []}, status=201)
    assert client(clock).post("/bulk", {"x": 1}) == {"issues": []}
    responses.add(responses.POST, f"{BASE}/again", status=500, json={"errorMessages": ["boom"]})
    with pytest.raises(HttpError) as caught:
        client(clock).post("/again", {})
    assert caught.value.status == 500
    assert len([c for c in responses.calls if c.request.url.endswith("/again")]) == 1


@responses.activate
def test_idempotent_requests_are_retried_on_5xx_with_growing_jittered_backoff(clock):
    for _ in range(3):
        responses.add(responses.GET, f"{BASE}/x", status=502)
    responses.add(responses.GET, f"{BASE}/x", json=[1])
    assert client(clock).get("/x") == [1]
    waits = clock.sleeps
    assert len(waits) == 3
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1 and 1 <= waits[2] <= 2


@responses.activate
@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_reported_with_the_servers_words_and_not_retried(clock, status):
    responses.add(
        responses.GET,
        f"{BASE}/rest/api/2/project/NOPE",
        status=status,
        json={"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {"project": "bad"}},
    )
    with pytest.raises(HttpError) as caught:
        client(clock).get("/rest/api/2/project/NOPE")
    assert str(caught.value) == (
        f"GET /rest/api/2/project/NOPE answered {status}: "
        "No project could be found with key 'NOPE'.; project: bad"
    )
    assert len(responses.calls) == 1 and clock.sleeps == []


@responses.activate
def test_retries_are_bounded(clock):
    for _ in range(10):
        responses.add(responses.GET, f"{BASE}/busy", status=429, headers={"Retry-After": "1"})
    with pytest.raises(HttpError) as caught:
        client(clock, retry=RetryPolicy(max_attempts=3)).get("/busy")
    assert caught.value.status == 429 and len(responses.calls) == 3


@responses.activate
def test_an_unreasonable_retry_after_is_reported_not_waited(clock):
    responses.add(responses.GET, f"{BASE}/slow", status=429, headers={"Retry-After": "86400"})
    with pytest.raises(WaitTooLong) as caught:
        client(clock).get("/slow")
    assert "asked to wait 86400 s (Retry-After), longer than the 600 s allowed (max_retry_wait)" in str(
        caught.value
    )
    assert "run again after" in str(caught.value)
    assert clock.sleeps == []


@responses.activate
def test_pacing_spaces_requests(clock):
    responses.add(responses.GET, f"{BASE}/p", json={})
    paced = client(clock, min_interval=0.2)
    stamps = []
    for _ in range(3):
        paced.get("/p")
        stamps.append(clock.now)
    assert stamps[1] - stamps[0] >= 0.2 and stamps[2] - stamps[1] >= 0.2
    assert paced.requests_sent == 3


@responses.activate
def test_secrets_never_appear_in_errors(clock):
    responses.add(responses.GET, f"{BASE}/leak", status=401, json={"message": "bad token t0ken"})
    with pytest.raises(HttpError) as caught:
        client(clock).get("/leak")
    assert "t0ken" not in str(caught.value) and "***" in str(caught.value)


def test_a_refused_connection_is_a_clear_tracker_error(clock):
    unreachable = HttpClient(
        "http://127.0.0.1:1",
        requests.Session().request,
        sleep=clock.sleep,
        clock=clock,
        retry=RetryPolicy(max_attempts=2),
    )
    expected = r"GET /x failed 2 times: cannot reach the tracker at http://127.0.0.1:1 \(connection refused\)"
    with pytest.raises(TrackerError, match=expected):
        unreachable.get("/x")
    assert len(clock.sleeps) == 1  # retried once, then reported


@responses.activate
def test_a_post_that_timed_out_is_not_sent_again_but_reported_as_uncertain(clock):
    responses.add(responses.POST, f"{BASE}/create", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(UncertainOutcome, match="may or may not have reached"):
        client(clock).post("/create", {"title": "x"})
    assert len(responses.calls) == 1


@responses.activate
def test_clients_sharing_a_pacer_wait_out_each_others_retry_after(clock):
    seen: list[tuple[str, float]] = []

    def answer(request):
        seen.append((request.url.rsplit("/", 1)[-1], clock.now))
        if len(seen) == 1:
            return 429, {"Retry-After": "5"}, "{}"
        return 200, {}, "{}"

    responses.add_callback(responses.GET, f"{BASE}/a", callback=answer)
    responses.add_callback(responses.GET, f"{BASE}/b", callback=answer)
    pacer = Pacer(sleep=clock.sleep, clock=clock)
    first, second = (
        HttpClient(BASE, requests.Session().request, pacer=pacer, sleep=clock.sleep, clock=clock)
        for _ in range(2)
    )
    first.get("/a")  # 429, waits 5 s, then succeeds
    second.get("/b")
    assert seen[1][1] - seen[0][1] >= 5 and seen[2][1] >= seen[1][1]
    assert first.throttled == 1 and second.throttled == 0


def test_one_pacer_per_site_for_every_plan_on_it():
    one = pacer_for("https://acme.atlassian.net/jira", 0.1)
    same = pacer_for("https://ACME.atlassian.net", 0.5)
    other = pacer_for("https://globex.atlassian.net", 0.1)
    assert one is same and one is not other
    assert one.min_interval == 0.5  # the strictest plan's pacing holds


@responses.activate
@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": "0x80040265", "message": "A set can hold\n at most 200 operations."}},
        {"odata.error": {"code": "-1, Microsoft.SharePoint.SPException",
                         "message": {"lang": "en-US", "value": "A set can hold at most 200 operations."}}},
    ],
    ids=["odata-4", "odata-3"],
)  # fmt: skip
def test_an_odata_error_is_shown_in_the_server_s_own_words_on_one_line(clock, body):
    responses.add(responses.POST, f"{BASE}/set", status=400, json=body)
    with pytest.raises(HttpError) as caught:
        client(clock).post("/set", {})
    assert caught.value.message == "A set can hold at most 200 operations."

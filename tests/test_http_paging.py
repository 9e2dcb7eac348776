"""The four paging strategies of the shared HTTP layer, one tracker's answers each (``responses``)."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from connectors.errors import TrackerError
from connectors.http import HttpClient
from connectors.http.paging import link_pages, odata_pages, offset_pages, token_pages

BASE = "https://tracker.example"


def client() -> HttpClient:
    return HttpClient(BASE, requests.Session().request, sleep=lambda _: None)


@responses.activate
def test_token_pages_follow_the_token_until_the_last_page():
    bodies = []

    def answer(request):
        body = json.loads(request.body)
        bodies.append(body)
        token = body.get("nextPageToken")
        pages = {None: ([1, 2], "t1"), "t1": ([3, 4], "t2"), "t2": ([5], None)}
        issues, following = pages[token]
        page = {"issues": [{"id": i} for i in issues], "isLast": following is None}
        if following:
            page["nextPageToken"] = following
        return 200, {}, json.dumps(page)

    responses.add_callback(responses.POST, f"{BASE}/search/jql", callback=answer)
    found = [i["id"] for i in token_pages(client(), "/search/jql", {"jql": "x"}, "issues")]
    assert found == [1, 2, 3, 4, 5]
    assert [b.get("nextPageToken") for b in bodies] == [None, "t1", "t2"]
    assert all(b["jql"] == "x" for b in bodies)


@responses.activate
def test_a_token_answered_twice_is_an_error_not_an_endless_loop():
    responses.add(responses.POST, f"{BASE}/s", json={"issues": [{"id": 1}], "nextPageToken": "same"})
    with pytest.raises(TrackerError, match="the same page token twice"):
        list(token_pages(client(), "/s", {}, "issues"))


@responses.activate
def test_offset_pages_stop_at_the_total_in_the_body_or_the_query():
    def answer(request):
        start = json.loads(request.body)["startAt"]
        issues = [{"id": i} for i in range(start, min(start + 2, 5))]
        return 200, {}, json.dumps({"startAt": start, "total": 5, "issues": issues})

    responses.add_callback(responses.POST, f"{BASE}/search", callback=answer)
    found = [i["id"] for i in offset_pages(client(), "/search", "issues", body={"jql": "x"})]
    assert found == [0, 1, 2, 3, 4] and len(responses.calls) == 3

    responses.add(responses.GET, f"{BASE}/comments", json={"total": 1, "comments": [{"id": "c1"}]})
    found = list(offset_pages(client(), "/comments", "comments", params={"maxResults": 100}))
    assert found == [{"id": "c1"}]
    url = responses.calls[-1].request.url
    assert "startAt=0" in url and "maxResults=100" in url


@responses.activate
def test_link_pages_follow_rel_next_with_the_query_it_carries():
    responses.add(
        responses.GET,
        f"{BASE}/issues",
        json=[{"iid": 1}, {"iid": 2}],
        headers={"Link": f'<{BASE}/issues?id_after=2&pagination=keyset>; rel="next"'},
        match=[responses.matchers.query_param_matcher({"per_page": "2", "pagination": "keyset"})],
    )
    responses.add(
        responses.GET,
        f"{BASE}/issues",
        json=[{"iid": 3}],
        match=[responses.matchers.query_param_matcher({"id_after": "2", "pagination": "keyset"})],
    )
    found = [i["iid"] for i in link_pages(client(), "/issues", {"per_page": 2, "pagination": "keyset"})]
    assert found == [1, 2, 3]


@responses.activate
def test_odata_pages_follow_the_next_link():
    responses.add(
        responses.GET,
        f"{BASE}/_api/ProjectServer/Projects",
        json={"value": [{"Id": "a"}], "@odata.nextLink": f"{BASE}/_api/ProjectServer/Projects?$skiptoken=1"},
        match=[responses.matchers.query_param_matcher({"$select": "Id"})],
    )
    responses.add(
        responses.GET,
        f"{BASE}/_api/ProjectServer/Projects",
        json={"value": [{"Id": "b"}]},
        match=[responses.matchers.query_param_matcher({"$skiptoken": "1"})],
    )
    found = [p["Id"] for p in odata_pages(client(), "/_api/ProjectServer/Projects", {"$select": "Id"})]
    assert found == ["a", "b"]

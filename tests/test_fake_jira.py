"""The fake Jira answers like the documented Jira REST API in the details a connector depends on.

Plain ``requests`` calls against the running fake, Cloud and Data Center flavours.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from .fakes.jira_server import FakeJira, JqlBool, JqlClause, JqlError, JqlNot, parse_jql

EMAIL = "pm@example.com"
JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")


def _start(flavour: str) -> FakeJira:
    jira = FakeJira(flavour=flavour)
    jira.add_project("ISO", name="ISO 20000")
    return jira


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with _start(request.param) as fake:
        yield fake


@pytest.fixture
def cloud() -> Iterator[FakeJira]:
    with _start("cloud") as fake:
        yield fake


@pytest.fixture
def dc() -> Iterator[FakeJira]:
    with _start("datacenter") as fake:
        yield fake


def client(jira: FakeJira) -> requests.Session:
    """Authenticated the way each flavour expects: Cloud basic (email, API token), DC bearer PAT."""
    session = requests.Session()
    if jira.cloud:
        session.auth = (EMAIL, jira.token)
    else:
        session.headers["Authorization"] = f"Bearer {jira.token}"
    return session


def task(summary: str, issuetype: str = "Task", **fields: Any) -> dict[str, Any]:
    return {
        "fields": {"project": {"key": "ISO"}, "issuetype": {"name": issuetype}, "summary": summary, **fields}
    }


def search(jira: FakeJira, jql: str, fields: str = "summary", **params: Any) -> list[dict[str, Any]]:
    """One page of either flavour's search endpoint."""
    path = "/rest/api/3/search/jql" if jira.cloud else "/rest/api/2/search"
    response = client(jira).get(jira.url + path, params={"jql": jql, "fields": fields, **params})
    assert response.status_code == 200, response.text
    return response.json()["issues"]


def keys(issues: list[dict[str, Any]]) -> list[str]:
    return [issue["key"] for issue in issues]


# -- bulk create ---------------------------------------------------------------------------------------


def test_bulk_create_reports_failed_elements_and_lists_successes_in_input_order(jira: FakeJira) -> None:
    elements = [task("first"), task("bad", customfield_999=1), task("second"), task("")]
    response = client(jira).post(f"{jira.url}/rest/api/2/issue/bulk", json={"issueUpdates": elements})

    assert response.status_code == 201
    body = response.json()
    assert keys(body["issues"]) == ["ISO-1", "ISO-2"]
    assert all(set(created) == {"id", "key", "self"} for created in body["issues"])
    assert [jira.issue(key).fields["summary"] for key in keys(body["issues"])] == ["first", "second"]
    assert body["errors"] == [
        {
            "status": 400,
            "elementErrors": {
                "errorMessages": [],
                "errors": {
                    "customfield_999": "Field 'customfield_999' cannot be set. "
                    "It is not on the appropriate screen, or unknown."
                },
            },
            "failedElementNumber": 1,
        },
        {
            "status": 400,
            "elementErrors": {
                "errorMessages": [],
                "errors": {"summary": "You must specify a summary of the issue."},
            },
            "failedElementNumber": 3,
        },
    ]
    assert int(body["issues"][0]["id"]) >= 10000


def test_bulk_create_with_every_element_failing_is_400_with_the_same_shape(jira: FakeJira) -> None:
    jira.fail_bulk_element(summary_contains="FAIL")
    elements = [task("FAIL one"), task("two", issuetype="Nope"), task("FAIL three")]
    response = client(jira).post(f"{jira.url}/rest/api/2/issue/bulk", json={"issueUpdates": elements})

    assert response.status_code == 400
    body = response.json()
    assert body["issues"] == []
    assert [error["failedElementNumber"] for error in body["errors"]] == [0, 1, 2]
    assert "summary" in body["errors"][0]["elementErrors"]["errors"]
    assert body["errors"][1]["elementErrors"]["errors"] == {"issuetype": "Specify a valid issue type"}
    assert jira.issues == {}


def test_concurrent_bulk_creates_get_unique_keys(cloud: FakeJira) -> None:
    def create(batch: int) -> list[str]:
        elements = [task(f"batch {batch} item {n}") for n in range(10)]
        response = client(cloud).post(f"{cloud.url}/rest/api/2/issue/bulk", json={"issueUpdates": elements})
        return keys(response.json()["issues"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = [key for batch in pool.map(create, range(16)) for key in batch]
    assert sorted(created, key=lambda key: int(key.split("-")[1])) == [f"ISO-{n}" for n in range(1, 161)]
    assert len(cloud.requests) == 16 and all(record.status == 201 for record in cloud.requests)


def test_bulk_create_refuses_51_elements_and_takes_50(jira: FakeJira) -> None:
    http = client(jira)
    response = http.post(
        f"{jira.url}/rest/api/2/issue/bulk", json={"issueUpdates": [task(f"t{n}") for n in range(51)]}
    )
    assert response.status_code == 400
    assert response.json()["errorMessages"] and response.json()["errors"] == {}
    assert jira.issues == {}

    response = http.post(
        f"{jira.url}/rest/api/2/issue/bulk", json={"issueUpdates": [task(f"t{n}") for n in range(50)]}
    )
    assert response.status_code == 201
    assert len(response.json()["issues"]) == 50


def test_create_validates_like_jira(jira: FakeJira) -> None:
    http = client(jira)
    response = http.post(
        f"{jira.url}/rest/api/2/issue",
        json=task(
            "bad\nsummary",
            labels=["has space"],
            duedate="2027-13-01",
            customfield_10050="12",
            fixVersions=[{"id": "99999"}],
        ),
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"summary", "labels", "duedate", "customfield_10050", "fixVersions"}
    assert errors["customfield_10050"] == "Operation value must be a number"

    response = http.post(f"{jira.url}/rest/api/2/issue", json={"fields": {"project": {"key": "NOPE"}}})
    assert response.json()["errors"]["project"] == "Specify a valid project ID or key"

    created = http.post(f"{jira.url}/rest/api/2/issue", json=task("ok", customfield_10050=1250.5))
    assert created.status_code == 201
    assert set(created.json()) == {"id", "key", "self"}


def test_epic_name_required_on_datacenter_and_parent_checked_on_cloud(dc: FakeJira, cloud: FakeJira) -> None:
    response = client(dc).post(f"{dc.url}/rest/api/2/issue", json=task("Phase 1", issuetype="Epic"))
    assert response.status_code == 400
    assert response.json()["errors"] == {"customfield_10101": "Epic Name is required."}
    epic = client(dc).post(
        f"{dc.url}/rest/api/2/issue", json=task("Phase 1", "Epic", customfield_10101="Phase 1")
    )
    assert epic.status_code == 201
    linked = client(dc).post(
        f"{dc.url}/rest/api/2/issue", json=task("Task", customfield_10100=epic.json()["key"])
    )
    assert linked.status_code == 201
    assert client(dc).get(linked.json()["self"]).json()["fields"]["customfield_10100"] == "ISO-1"

    http = client(cloud)
    response = http.post(f"{cloud.url}/rest/api/2/issue", json=task("child", parent={"key": "ISO-99"}))
    assert response.json()["errors"] == {"parent": "Could not find issue by id or key."}
    epic = http.post(f"{cloud.url}/rest/api/2/issue", json=task("Phase 1", issuetype="Epic"))
    assert epic.status_code == 201
    child = http.post(f"{cloud.url}/rest/api/2/issue", json=task("child", parent={"key": epic.json()["key"]}))
    assert child.status_code == 201
    parent = http.get(child.json()["self"], params={"fields": "parent"}).json()["fields"]["parent"]
    assert (parent["id"], parent["key"]) == (epic.json()["id"], "ISO-1")
    grandchild = http.post(
        f"{cloud.url}/rest/api/2/issue", json=task("x", parent={"key": child.json()["key"]})
    )
    assert grandchild.status_code == 400


# -- search endpoints ----------------------------------------------------------------------------------


def test_cloud_old_search_endpoints_answer_410_gone(cloud: FakeJira) -> None:
    http = client(cloud)
    for version in ("2", "3"):
        url = f"{cloud.url}/rest/api/{version}/search"
        for response in (
            http.get(url, params={"jql": "project = ISO"}),
            http.post(url, json={"jql": "project = ISO"}),
        ):
            assert response.status_code == 410
            assert response.json()["errorMessages"][0].startswith(
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
            )


def test_search_jql_does_not_exist_on_datacenter(dc: FakeJira) -> None:
    for version in ("2", "3"):
        response = client(dc).get(f"{dc.url}/rest/api/{version}/search/jql", params={"jql": "project = ISO"})
        assert response.status_code == 404


def test_cloud_token_pagination_runs_to_the_end(cloud: FakeJira) -> None:
    for n in range(7):
        cloud.create_issue("ISO", f"task {n}")
    http = client(cloud)
    url = f"{cloud.url}/rest/api/3/search/jql"
    pages, token = [], None
    while True:
        params = {"jql": "project = ISO ORDER BY key ASC", "fields": "summary", "maxResults": 3}
        body = http.get(url, params={**params, **({"nextPageToken": token} if token else {})}).json()
        pages.append(body)
        assert "total" not in body and "startAt" not in body
        token = body.get("nextPageToken")
        if token is None:
            break
    assert [len(page["issues"]) for page in pages] == [3, 3, 1]
    assert [page["isLast"] for page in pages] == [False, False, True]
    assert [key for page in pages for key in keys(page["issues"])] == [f"ISO-{n}" for n in range(1, 8)]

    first = http.post(
        url, json={"jql": "project = ISO ORDER BY key ASC", "fields": ["summary"], "maxResults": 5}
    )
    token = first.json()["nextPageToken"]
    second = http.post(
        url, json={"jql": "project = ISO ORDER BY key ASC", "fields": ["summary"], "nextPageToken": token}
    )
    assert keys(second.json()["issues"]) == ["ISO-6", "ISO-7"] and second.json()["isLast"] is True
    other_query = http.post(url, json={"jql": "project = ISO", "nextPageToken": token})
    assert other_query.status_code == 400
    assert http.post(url, json={"jql": "project = ISO", "startAt": 5}).status_code == 400


def test_cloud_search_returns_ids_only_without_fields_and_caps_max_results(cloud: FakeJira) -> None:
    for n in range(3):
        cloud.create_issue("ISO", f"task {n}")
    http = client(cloud)
    url = f"{cloud.url}/rest/api/3/search/jql"
    body = http.get(url, params={"jql": "project = ISO"}).json()
    assert all(set(issue) == {"id"} for issue in body["issues"]) and len(body["issues"]) == 3

    unbounded = http.get(url, params={"jql": "ORDER BY key"})
    assert unbounded.status_code == 400 and "Unbounded" in unbounded.json()["errorMessages"][0]


def test_datacenter_offset_pagination_has_total_and_caps_max_results(dc: FakeJira) -> None:
    for n in range(7):
        dc.create_issue("ISO", f"task {n}")
    http = client(dc)
    url = f"{dc.url}/rest/api/2/search"
    first = http.get(url, params={"jql": "project = ISO ORDER BY key", "startAt": 0, "maxResults": 3}).json()
    assert (first["startAt"], first["maxResults"], first["total"]) == (0, 3, 7)
    assert keys(first["issues"]) == ["ISO-1", "ISO-2", "ISO-3"]
    last = http.post(url, json={"jql": "project = ISO ORDER BY key", "startAt": 6, "maxResults": 3}).json()
    assert keys(last["issues"]) == ["ISO-7"] and last["total"] == 7
    capped = http.get(url, params={"jql": "project = ISO", "maxResults": 1000}).json()
    assert capped["maxResults"] == 100 and len(capped["issues"]) == 7
    assert http.post(url, json={"jql": "project = ISO", "nextPageToken": "x"}).status_code == 400


def test_only_the_requested_fields_are_returned(jira: FakeJira) -> None:
    issue = jira.create_issue("ISO", "with fields", labels=["plan-acme"], customfield_10050=10.0)
    [found] = search(jira, "project = ISO", fields="summary,labels,customfield_10050")
    assert found["fields"] == {"summary": "with fields", "labels": ["plan-acme"], "customfield_10050": 10.0}
    assert found["id"] == issue.id and found["key"] == "ISO-1"

    single = client(jira).get(f"{jira.url}/rest/api/2/issue/ISO-1", params={"fields": "summary,status"})
    assert set(single.json()["fields"]) == {"summary", "status"}
    assert single.json()["fields"]["status"]["statusCategory"]["key"] == "new"
    everything = client(jira).get(f"{jira.url}/rest/api/2/issue/{issue.id}").json()["fields"]
    assert {"summary", "timetracking", "issuelinks", "created", "updated", "resolutiondate"} <= set(
        everything
    )
    assert JIRA_TIME.match(everything["created"])


# -- eventual consistency ------------------------------------------------------------------------------


def test_new_issue_is_hidden_from_search_until_the_lag_passes_or_it_is_reconciled(cloud: FakeJira) -> None:
    cloud.consistency_lag = 0.8
    http = client(cloud)
    created = http.post(f"{cloud.url}/rest/api/2/issue", json=task("fresh")).json()

    assert search(cloud, "project = ISO") == []
    reconciled = search(cloud, "project = ISO", reconcileIssues=created["id"])
    assert keys(reconciled) == [created["key"]]
    posted = http.post(
        f"{cloud.url}/rest/api/3/search/jql",
        json={"jql": "project = ISO", "fields": ["summary"], "reconcileIssues": [int(created["id"])]},
    )
    assert keys(posted.json()["issues"]) == [created["key"]]
    assert http.get(created["self"]).status_code == 200  # GET issue is consistent at once

    time.sleep(0.85)
    assert keys(search(cloud, "project = ISO")) == [created["key"]]


def test_updated_issue_is_searched_in_its_previous_state_during_the_lag(jira: FakeJira) -> None:
    issue = jira.create_issue("ISO", "old summary", labels=["a"])
    jira.settle()
    jira.consistency_lag = 0.8
    response = client(jira).put(
        f"{jira.url}/rest/api/2/issue/{issue.key}",
        json={"fields": {"summary": "new summary", "labels": ["b"]}},
    )
    assert response.status_code == 204

    [found] = search(jira, "project = ISO")
    assert found["fields"]["summary"] == "old summary"
    assert search(jira, 'labels = "b"') == []
    if jira.cloud:
        [fresh] = search(jira, "project = ISO", reconcileIssues=issue.id)
        assert fresh["fields"]["summary"] == "new summary"
    time.sleep(0.85)
    assert keys(search(jira, 'labels = "b"')) == [issue.key]


def test_reconciling_more_than_50_issues_is_refused(cloud: FakeJira) -> None:
    response = client(cloud).post(
        f"{cloud.url}/rest/api/3/search/jql",
        json={"jql": "project = ISO", "reconcileIssues": list(range(10000, 10051))},
    )
    assert response.status_code == 400


# -- faults, latency, rate limit -----------------------------------------------------------------------


def test_injected_429_carries_retry_after_and_is_recorded(jira: FakeJira) -> None:
    jira.fail_next(status=429, retry_after=2)
    http = client(jira)
    url = f"{jira.url}/rest/api/2/project/ISO"
    refused = http.get(url)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    assert http.get(url).status_code == 200
    assert [(r.method, r.path, r.status) for r in jira.requests] == [
        ("GET", "/rest/api/2/project/ISO", 429),
        ("GET", "/rest/api/2/project/ISO", 200),
    ]
    assert jira.requests[0].time <= jira.requests[1].time

    jira.fail_next(status=503, retry_after=1, count=2, path="/issue/bulk")
    assert http.get(url).status_code == 200  # not matching the path: served normally
    bulk = [
        http.post(f"{jira.url}/rest/api/2/issue/bulk", json={"issueUpdates": [task("x")]}) for _ in range(3)
    ]
    assert [r.status_code for r in bulk] == [503, 503, 201]
    assert bulk[0].headers["Retry-After"] == "1"


def test_fault_after_processing_does_the_work_and_reports_a_failure(jira: FakeJira) -> None:
    jira.fail_next(status=504, path="/rest/api/2/issue", method="POST", after_processing=True)
    response = client(jira).post(f"{jira.url}/rest/api/2/issue", json=task("created anyway"))
    assert response.status_code == 504
    assert [issue.key for issue in jira.issues.values()] == ["ISO-1"]


def test_rate_limit_answers_429_beyond_n_requests_per_second(jira: FakeJira) -> None:
    jira.rate_limit(per_second=3)
    http = client(jira)
    statuses = [http.get(f"{jira.url}/rest/api/2/myself").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    assert jira.requests[-1].status == 429
    time.sleep(1.05)
    assert http.get(f"{jira.url}/rest/api/2/myself").status_code == 200


def test_latency_is_added_to_every_response(jira: FakeJira) -> None:
    jira.latency = 0.2
    started = time.monotonic()
    response = client(jira).get(f"{jira.url}/rest/api/2/serverInfo")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2
    assert jira.requests[0].time - started < 0.2  # recorded on arrival, before the delay


# -- authentication ------------------------------------------------------------------------------------


def test_wrong_or_missing_credentials_get_401_without_the_token(jira: FakeJira) -> None:
    url = f"{jira.url}/rest/api/2/myself"
    wrong_scheme = {"Authorization": f"Bearer {jira.token}"} if jira.cloud else {}
    attempts = [
        requests.get(url),
        requests.get(url, auth=(EMAIL, "wrong-token")),
        requests.get(url, headers={"Authorization": "Bearer wrong-token"}),
        requests.get(url, headers=wrong_scheme)
        if jira.cloud
        else requests.get(url, auth=("fake.user", jira.token)),
    ]
    for response in attempts:
        assert response.status_code == 401
        assert response.json() == {
            "errorMessages": [
                "You are not authenticated. Authentication required to perform this operation."
            ],
            "errors": {},
        }
        assert jira.token not in response.text and jira.token not in str(response.headers)
    assert all(jira.token not in str(record.headers) for record in jira.requests)

    me = client(jira).get(url).json()
    assert me["timeZone"] == "Europe/Berlin" and me["displayName"]
    assert ("accountId" in me) is jira.cloud and ("name" in me) is not jira.cloud


def test_server_info_reports_the_deployment_type(cloud: FakeJira, dc: FakeJira) -> None:
    cloud_info = client(cloud).get(f"{cloud.url}/rest/api/3/serverInfo").json()
    assert cloud_info["deploymentType"] == "Cloud" and cloud_info["baseUrl"] == cloud.url
    dc_info = client(dc).get(f"{dc.url}/rest/api/2/serverInfo").json()
    assert (dc_info["deploymentType"], dc_info["version"]) == ("Server", "9.12.0")
    assert client(dc).get(f"{dc.url}/rest/api/3/serverInfo").status_code == 404


# -- links ---------------------------------------------------------------------------------------------


def test_link_direction_as_read_back(jira: FakeJira) -> None:
    blocker = jira.create_issue("ISO", "A")
    blocked = jira.create_issue("ISO", "B")
    http = client(jira)
    response = http.post(
        f"{jira.url}/rest/api/2/issueLink",
        json={"type": {"name": "Blocks"}, "inwardIssue": {"key": "ISO-1"}, "outwardIssue": {"key": "ISO-2"}},
    )
    assert response.status_code == 201 and response.content == b""

    links_a = http.get(f"{jira.url}/rest/api/2/issue/ISO-1", params={"fields": "issuelinks"}).json()
    [link_a] = links_a["fields"]["issuelinks"]
    assert link_a["type"]["name"] == "Blocks" and link_a["type"]["outward"] == "blocks"
    assert "inwardIssue" not in link_a
    assert (link_a["outwardIssue"]["id"], link_a["outwardIssue"]["key"]) == (blocked.id, "ISO-2")

    [link_b] = http.get(f"{jira.url}/rest/api/2/issue/ISO-2").json()["fields"]["issuelinks"]
    assert "outwardIssue" not in link_b
    assert (link_b["inwardIssue"]["id"], link_b["inwardIssue"]["key"]) == (blocker.id, "ISO-1")
    assert link_b["id"] == link_a["id"]

    by_key = {issue["key"]: issue for issue in search(jira, "project = ISO", fields="issuelinks")}
    assert by_key["ISO-1"]["fields"]["issuelinks"][0]["outwardIssue"]["key"] == "ISO-2"
    assert by_key["ISO-2"]["fields"]["issuelinks"][0]["inwardIssue"]["key"] == "ISO-1"


def test_posting_the_same_link_twice_stores_it_once(jira: FakeJira) -> None:
    jira.create_issue("ISO", "A")
    jira.create_issue("ISO", "B")
    body = {"type": {"name": "Blocks"}, "inwardIssue": {"key": "ISO-1"}, "outwardIssue": {"key": "ISO-2"}}
    http = client(jira)
    assert [http.post(f"{jira.url}/rest/api/2/issueLink", json=body).status_code for _ in range(2)] == [
        201,
        201,
    ]
    assert len(jira.links) == 1
    assert len(jira.issue("ISO-1").fields["issuelinks"]) == 1

    unknown = {**body, "outwardIssue": {"key": "ISO-99"}}
    assert http.post(f"{jira.url}/rest/api/2/issueLink", json=unknown).status_code == 404
    link_types = http.get(f"{jira.url}/rest/api/2/issueLinkType").json()["issueLinkTypes"]
    assert {
        "id": "10000",
        "name": "Blocks",
        "inward": "is blocked by",
        "outward": "blocks",
    }.items() <= link_types[0].items()


# -- JQL -----------------------------------------------------------------------------------------------


def test_jql_errors_are_400_with_jira_wording(jira: FakeJira) -> None:
    path = "/rest/api/3/search/jql" if jira.cloud else "/rest/api/2/search"
    cases = {
        "project = ISO AND": "Error in the JQL Query:",
        'labels = "unterminated': "Error in the JQL Query:",
        "project ISO": "Error in the JQL Query: Expecting operator but got 'ISO'.",
        "assignee = currentUser()": "Error in the JQL Query:",
        "foo = bar": "Field 'foo' does not exist or you do not have permission to view it.",
        "project = NOPE": "The value 'NOPE' does not exist for the field 'project'.",
        "key in (ISO-99)": "An issue with key 'ISO-99' does not exist for field 'key'.",
        'updated >= "yesterday"': "Date value 'yesterday' for field 'updated' is invalid.",
    }
    for jql, message in cases.items():
        response = client(jira).get(jira.url + path, params={"jql": jql})
        assert response.status_code == 400, jql
        assert response.json()["errorMessages"][0].startswith(message), (jql, response.json())


def test_relative_updated_finds_only_recent_changes(jira: FakeJira) -> None:
    old = jira.create_issue("ISO", "old")
    recent = jira.create_issue("ISO", "recent")
    jira.set_field(old.key, "updated", datetime.now(UTC) - timedelta(hours=1))
    assert keys(search(jira, 'project = ISO AND updated >= "-10m"')) == [recent.key]
    assert keys(search(jira, "project = ISO AND updated >= -90m ORDER BY key")) == [old.key, recent.key]
    assert keys(search(jira, "project = ISO AND updated < -30m")) == [old.key]


def test_absolute_dates_are_in_the_user_time_zone(jira: FakeJira) -> None:
    issue = jira.create_issue("ISO", "dated")
    jira.set_field(issue.key, "updated", datetime(2027, 1, 4, 9, 30, tzinfo=UTC))  # 10:30 in Berlin
    assert keys(search(jira, 'key = ISO-1 AND updated >= "2027/01/04 10:00"')) == ["ISO-1"]
    assert search(jira, 'key = ISO-1 AND updated >= "2027-01-04 11:00"') == []
    fields = client(jira).get(f"{jira.url}/rest/api/2/issue/ISO-1", params={"fields": "updated"}).json()
    assert fields["fields"]["updated"] == "2027-01-04T10:30:00.000+0100"


def test_jql_subset_combines_clauses(jira: FakeJira) -> None:
    jira.add_project("OPS", name="Operations")
    epic_fields = {} if jira.cloud else {"customfield_10101": "Phase"}
    jira.create_issue("ISO", "phase", "Epic", labels=["plan-a"], **epic_fields)
    jira.create_issue("ISO", "task a", labels=["plan-a", "task-1"])
    jira.create_issue("ISO", "task b", labels=["plan-b"])
    jira.create_issue("OPS", "other", labels=["plan-a"])
    assert keys(search(jira, 'labels = "plan-a" ORDER BY key ASC')) == ["ISO-1", "ISO-2", "OPS-1"]
    assert keys(
        search(jira, "project in (ISO, OPS) AND labels in (plan-b, task-1) ORDER BY created ASC")
    ) == [
        "ISO-2",
        "ISO-3",
    ]
    assert keys(search(jira, "key in (ISO-1, OPS-1) ORDER BY key")) == ["ISO-1", "OPS-1"]
    assert keys(search(jira, "issuetype = Epic")) == ["ISO-1"]
    jql = '(project = OPS OR labels = "plan-b") AND NOT issuetype = Epic ORDER BY key DESC'
    assert keys(search(jira, jql)) == ["OPS-1", "ISO-3"]
    assert keys(search(jira, "PROJECT = iso and LABELS is EMPTY")) == []


def test_parse_jql_gives_and_precedence_over_or() -> None:
    query = parse_jql('a = 1 OR b = "two words" AND NOT c in (x, y) ORDER BY key DESC, created')
    assert query.where == JqlBool(
        "or",
        (
            JqlClause("a", "=", ("1",), 0),
            JqlBool(
                "and",
                (JqlClause("b", "=", ("two words",), 9), JqlNot(JqlClause("c", "in", ("x", "y"), 33))),
            ),
        ),
    )
    assert [(o.field, o.ascending) for o in query.order_by] == [("key", False), ("created", True)]
    with pytest.raises(JqlError, match=r"line 1, character 5"):
        parse_jql("a = (")


# -- metadata, versions, permissions, comments, helpers ------------------------------------------------


def test_project_fields_and_permissions(jira: FakeJira) -> None:
    http = client(jira)
    project = http.get(f"{jira.url}/rest/api/2/project/ISO").json()
    assert [t["name"] for t in project["issueTypes"]] == ["Epic", "Task", "Story", "Sub-task"]
    assert project["projectTypeKey"] == "software"
    missing = http.get(f"{jira.url}/rest/api/2/project/NOPE")
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == ["No project could be found with key 'NOPE'."]
    jira.add_issue_type("ISO", "Milestone")
    assert "Milestone" in [
        t["name"] for t in http.get(f"{jira.url}/rest/api/2/project/ISO").json()["issueTypes"]
    ]

    fields = {f["id"]: f for f in http.get(f"{jira.url}/rest/api/2/field").json()}
    assert fields["customfield_10050"]["name"] == "Actual cost"
    assert fields["customfield_10050"]["schema"]["type"] == "number"
    assert fields["customfield_10015"]["schema"]["type"] == "date"
    assert ("customfield_10100" in fields) is not jira.cloud
    if not jira.cloud:
        assert fields["customfield_10101"]["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-epic-label"
    added = jira.add_field("Audit ref", "string")
    assert added in {f["id"] for f in http.get(f"{jira.url}/rest/api/2/field").json()}
    jira.remove_field("customfield_10050")
    refused = http.post(f"{jira.url}/rest/api/2/issue", json=task("x", customfield_10050=1))
    assert "customfield_10050" in refused.json()["errors"]

    params = {"projectKey": "ISO", "permissions": "CREATE_ISSUES,LINK_ISSUES"}
    permissions = http.get(f"{jira.url}/rest/api/2/mypermissions", params=params).json()["permissions"]
    assert (
        permissions["CREATE_ISSUES"]["havePermission"] is True
        and permissions["LINK_ISSUES"]["key"] == "LINK_ISSUES"
    )
    jira.permissions["CREATE_ISSUES"] = False
    permissions = http.get(f"{jira.url}/rest/api/2/mypermissions", params=params).json()["permissions"]
    assert permissions["CREATE_ISSUES"]["havePermission"] is False
    assert http.post(f"{jira.url}/rest/api/2/issue", json=task("x")).status_code == 403
    assert (
        http.post(f"{jira.url}/rest/api/2/issue/bulk", json={"issueUpdates": [task("x")]}).status_code == 403
    )


def test_versions_and_fix_versions(jira: FakeJira) -> None:
    http = client(jira)
    project_id = http.get(f"{jira.url}/rest/api/2/project/ISO").json()["id"]
    body = {
        "name": "Stage 1 audit",
        "description": "Certification",
        "projectId": project_id,
        "releaseDate": "2027-06-30",
    }
    created = http.post(f"{jira.url}/rest/api/2/version", json=body)
    assert created.status_code == 201
    version = created.json()
    assert (version["name"], version["releaseDate"], version["released"]) == (
        "Stage 1 audit",
        "2027-06-30",
        False,
    )
    duplicate = http.post(f"{jira.url}/rest/api/2/version", json=body)
    assert duplicate.status_code == 400
    assert duplicate.json()["errors"] == {"name": "A version with this name already exists in this project."}
    assert [v["id"] for v in http.get(f"{jira.url}/rest/api/2/project/ISO/versions").json()] == [
        version["id"]
    ]

    issue = http.post(
        f"{jira.url}/rest/api/2/issue", json=task("gate", fixVersions=[{"id": version["id"]}])
    ).json()
    fix_versions = http.get(issue["self"], params={"fields": "fixVersions"}).json()["fields"]["fixVersions"]
    assert [(v["id"], v["name"]) for v in fix_versions] == [(version["id"], "Stage 1 audit")]


def test_comments_round_trip(jira: FakeJira) -> None:
    jira.create_issue("ISO", "commented")
    http = client(jira)
    url = f"{jira.url}/rest/api/2/issue/ISO-1/comment"
    created = http.post(url, json={"body": "Status: 40% complete"})
    assert created.status_code == 201
    comment = created.json()
    assert comment["body"] == "Status: 40% complete" and JIRA_TIME.match(comment["created"])
    updated = http.put(f"{url}/{comment['id']}", json={"body": "Status: 50% complete"})
    assert updated.status_code == 200 and updated.json()["body"] == "Status: 50% complete"
    listing = http.get(url).json()
    assert (listing["startAt"], listing["maxResults"], listing["total"]) == (0, 50, 1)
    assert [c["body"] for c in listing["comments"]] == ["Status: 50% complete"]
    assert http.post(url, json={"body": ""}).status_code == 400


def test_rest_api_3_speaks_atlassian_document_format(cloud: FakeJira) -> None:
    http = client(cloud)
    document = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "iso20k: acme/A1"}]}],
    }
    plain = http.post(f"{cloud.url}/rest/api/3/issue", json=task("x", description="not a document"))
    assert plain.status_code == 400 and "description" in plain.json()["errors"]
    created = http.post(f"{cloud.url}/rest/api/3/issue", json=task("x", description=document)).json()
    v3 = http.get(f"{cloud.url}/rest/api/3/issue/{created['key']}", params={"fields": "description"}).json()
    v2 = http.get(f"{cloud.url}/rest/api/2/issue/{created['key']}", params={"fields": "description"}).json()
    assert v3["fields"]["description"] == document
    assert v2["fields"]["description"] == "iso20k: acme/A1"


def test_user_helpers_change_status_time_tracking_and_updated(jira: FakeJira) -> None:
    issue = jira.create_issue("ISO", "work", timetracking={"originalEstimate": "2d"})
    before = issue.updated
    jira.transition(issue.key, "In Progress", "indeterminate")
    jira.log_work(issue.key, 3 * 3600)
    fields = client(jira).get(f"{jira.url}/rest/api/2/issue/ISO-1").json()["fields"]
    assert fields["status"]["statusCategory"]["key"] == "indeterminate"
    assert (fields["timeoriginalestimate"], fields["timespent"], fields["timeestimate"]) == (
        57600,
        10800,
        46800,
    )
    assert fields["timetracking"]["timeSpent"] == "3h" and fields["resolutiondate"] is None
    assert jira.issue("ISO-1").updated > before

    jira.transition(issue.key, "Done", "done")
    fields = client(jira).get(f"{jira.url}/rest/api/2/issue/ISO-1").json()["fields"]
    assert fields["status"]["statusCategory"]["key"] == "done"
    assert JIRA_TIME.match(fields["resolutiondate"])
    assert keys(search(jira, "statusCategory = Done")) == ["ISO-1"]

    jira.add_project("OPS")
    new_key = jira.move_issue("ISO-1", "OPS")
    assert new_key == "OPS-1"
    assert client(jira).get(f"{jira.url}/rest/api/2/issue/ISO-1").json()["key"] == "OPS-1"
    jira.delete_issue("OPS-1")
    assert client(jira).get(f"{jira.url}/rest/api/2/issue/OPS-1").status_code == 404


def test_unknown_paths_are_404_and_wrong_methods_405(jira: FakeJira) -> None:
    http = client(jira)
    missing = http.get(f"{jira.url}/rest/api/2/nothing-here")
    assert missing.status_code == 404 and missing.json()["errorMessages"]
    wrong = http.delete(f"{jira.url}/rest/api/2/search")
    assert wrong.status_code == 405
    assert http.get(f"{jira.url}/rest/api/2/issue/ISO-1").json()["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."
    ]

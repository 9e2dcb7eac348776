"""The fake Jira answers like the documented Jira REST API in the details a connector depends on.

Plain ``requests`` calls against the running fake, Cloud and Data Center flavours.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from .fakes.jira import FakeJira, JqlError, adf_to_wiki, parse_jql, wiki_to_adf
from .fakes.kit import ManualClock

EMAIL = "pm@example.com"
JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
NOT_ON_SCREEN = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


def _start(flavour: str, clock: ManualClock | None = None) -> FakeJira:
    jira = FakeJira(flavour=flavour, clock=clock)
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


@pytest.fixture(params=["cloud", "datacenter"])
def timed(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    """A fake on a manual clock: tests advance time instead of sleeping."""
    with _start(request.param, ManualClock(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))) as fake:
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


def bulk(jira: FakeJira, *elements: dict[str, Any], api: str = "2") -> requests.Response:
    return client(jira).post(f"{jira.url}/rest/api/{api}/issue/bulk", json={"issueUpdates": list(elements)})


def create(jira: FakeJira, element: dict[str, Any], api: str = "2") -> dict[str, Any]:
    """Create one issue through the bulk endpoint; its ``{id, key, self}``."""
    response = bulk(jira, element, api=api)
    assert response.status_code == 201, response.text
    [created] = response.json()["issues"]
    return created


def element_errors(response: requests.Response) -> list[dict[str, str]]:
    return [error["elementErrors"]["errors"] for error in response.json()["errors"]]


def search(jira: FakeJira, jql: str, fields: str = "summary", **params: Any) -> list[dict[str, Any]]:
    """One page of either flavour's search endpoint."""
    path = "/rest/api/3/search/jql" if jira.cloud else "/rest/api/2/search"
    response = client(jira).get(jira.url + path, params={"jql": jql, "fields": fields, **params})
    assert response.status_code == 200, response.text
    return response.json()["issues"]


def keys(issues: list[dict[str, Any]]) -> list[str]:
    return [issue["key"] for issue in issues]


def get_fields(jira: FakeJira, key: str, fields: str, api: str = "2") -> dict[str, Any]:
    response = client(jira).get(f"{jira.url}/rest/api/{api}/issue/{key}", params={"fields": fields})
    assert response.status_code == 200, response.text
    return response.json()["fields"]


# -- bulk create ---------------------------------------------------------------------------------------


def test_bulk_create_reports_failed_elements_and_every_success(jira: FakeJira) -> None:
    response = bulk(jira, task("first"), task("bad", customfield_999=1), task("second"), task(""))

    assert response.status_code == 201
    body = response.json()
    assert all(set(created) == {"id", "key", "self"} for created in body["issues"])
    assert sorted(jira.issue(c["key"])["fields"]["summary"] for c in body["issues"]) == ["first", "second"]
    assert body["errors"] == [
        {
            "status": 400,
            "elementErrors": {
                "errorMessages": [],
                "errors": {"customfield_999": NOT_ON_SCREEN.format("customfield_999")},
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
    assert all(int(created["id"]) >= 10000 for created in body["issues"])


def test_bulk_create_answers_successes_in_no_guaranteed_order(jira: FakeJira) -> None:
    summaries = [f"task {n}" for n in range(12)]
    created = bulk(jira, *(task(s) for s in summaries)).json()["issues"]

    # A connector pairing answers with its input by position would mix the issues up.
    assert [jira.issue(c["key"])["fields"]["summary"] for c in created] != summaries
    by_summary = {jira.issue(c["id"])["fields"]["summary"]: c["key"] for c in created}
    assert sorted(by_summary) == sorted(summaries)
    assert sorted(by_summary.values(), key=lambda key: int(key.split("-")[1])) == [
        f"ISO-{n}" for n in range(1, 13)
    ]


def test_bulk_create_with_every_element_failing_is_400_with_the_same_shape(jira: FakeJira) -> None:
    jira.fail_bulk_element(summary_contains="FAIL")
    response = bulk(jira, task("FAIL one"), task("two", issuetype="Nope"), task("FAIL three"))

    assert response.status_code == 400
    body = response.json()
    assert body["issues"] == []
    assert [error["failedElementNumber"] for error in body["errors"]] == [0, 1, 2]
    assert "summary" in body["errors"][0]["elementErrors"]["errors"]
    assert body["errors"][1]["elementErrors"]["errors"] == {"issuetype": "Specify a valid issue type"}
    assert jira.issues == {}


def test_concurrent_bulk_creates_get_unique_keys(cloud: FakeJira) -> None:
    def create_batch(batch: int) -> list[str]:
        return keys(bulk(cloud, *(task(f"batch {batch} item {n}") for n in range(10))).json()["issues"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = [key for batch in pool.map(create_batch, range(16)) for key in batch]
    assert sorted(created, key=lambda key: int(key.split("-")[1])) == [f"ISO-{n}" for n in range(1, 161)]
    assert len(cloud.requests) == 16 and all(record.status == 201 for record in cloud.requests)


def test_bulk_create_refuses_51_elements_and_a_bad_request_as_a_whole(jira: FakeJira) -> None:
    response = bulk(jira, *(task(f"t{n}") for n in range(51)))
    assert response.status_code == 400
    assert response.json()["errorMessages"] and response.json()["errors"] == {}
    assert jira.issues == {}
    for body in ({"issueUpdates": "nope"}, ["not", "an", "object"]):
        refused = client(jira).post(f"{jira.url}/rest/api/2/issue/bulk", json=body)
        assert refused.status_code == 400 and set(refused.json()) == {"errorMessages", "errors"}
    assert len(bulk(jira, *(task(f"t{n}") for n in range(50))).json()["issues"]) == 50


def test_create_validates_every_field_like_jira(jira: FakeJira) -> None:
    response = bulk(
        jira,
        task(
            "bad\nsummary",
            labels=["has space"],
            duedate="2027-13-01",
            customfield_10050="12",
            fixVersions=[{"id": "99999"}],
        ),
        task("x" * 256),
        {"fields": {"project": {"key": "NOPE"}}},
        task("ok", customfield_10050=1250.5, timetracking={"originalEstimate": "2 weeks"}),
    )
    first, long, no_project, estimate = element_errors(response)
    assert set(first) == {"summary", "labels", "duedate", "customfield_10050", "fixVersions"}
    assert first["summary"] == "The summary is invalid because it contains newline characters."
    assert first["labels"] == "The label 'has space' contains spaces which is invalid."
    assert first["customfield_10050"] == "Operation value must be a number"
    assert long == {"summary": "Summary must be less than 255 characters."}
    assert no_project["project"] == "Specify a valid project ID or key"
    assert estimate == {"timetracking": "The original estimate specified is not valid."}
    created = create(jira, task("ok", customfield_10050=1250.5, labels=["plan-a", "plan-a"]))
    assert jira.issue(created["key"])["fields"]["labels"] == ["plan-a"]


def test_epic_name_required_on_datacenter_and_parent_checked_on_cloud(dc: FakeJira, cloud: FakeJira) -> None:
    assert element_errors(bulk(dc, task("Phase 1", issuetype="Epic"))) == [
        {"customfield_10101": "Epic Name is required."}
    ]
    epic = create(dc, task("Phase 1", "Epic", customfield_10101="Phase 1"))
    linked = create(dc, task("Task", customfield_10100=epic["key"]))
    assert get_fields(dc, linked["key"], "customfield_10100")["customfield_10100"] == "ISO-1"
    assert element_errors(bulk(dc, task("Task", customfield_10100="ISO-2"))) == [
        {"customfield_10100": "The issue key 'ISO-2' for field 'Epic Link' is invalid."}
    ]
    assert element_errors(bulk(dc, task("child", parent={"key": epic["key"]}))) == [
        {"parent": NOT_ON_SCREEN.format("parent")}  # Data Center links epics with Epic Link, not parent
    ]

    assert element_errors(bulk(cloud, task("child", parent={"key": "ISO-99"}))) == [
        {"parent": "Could not find issue by id or key."}
    ]
    epic = create(cloud, task("Phase 1", issuetype="Epic"))
    child = create(cloud, task("child", parent={"key": epic["key"]}))
    parent = get_fields(cloud, child["key"], "parent")["parent"]
    assert (parent["id"], parent["key"]) == (epic["id"], "ISO-1")
    assert element_errors(bulk(cloud, task("x", parent={"key": child["key"]}))) == [
        {"parent": "Given parent work item does not belong to appropriate hierarchy."}
    ]
    subtask = create(cloud, task("sub", "Sub-task", parent={"key": child["key"]}))
    assert element_errors(bulk(cloud, task("orphan", "Sub-task")))[0]["parent"].startswith(
        "Issue type is a sub-task"
    )
    cloud.log_work(subtask["key"], 3600)
    cloud.log_work(child["key"], 1800)
    assert get_fields(cloud, child["key"], "aggregatetimespent")["aggregatetimespent"] == 5400


# -- create screens and permissions --------------------------------------------------------------------


def test_createmeta_lists_each_issue_types_screen_in_each_flavours_shape(
    cloud: FakeJira, dc: FakeJira
) -> None:
    for jira in (cloud, dc):
        types = {
            t["name"]: t["id"]
            for t in client(jira).get(f"{jira.url}/rest/api/2/project/ISO").json()["issueTypes"]
        }
        url = f"{jira.url}/rest/api/2/issue/createmeta/ISO/issuetypes"
        task_page = client(jira).get(f"{url}/{types['Task']}").json()
        entries = task_page["fields"] if jira.cloud else task_page["values"]
        assert (task_page["startAt"], task_page["maxResults"], task_page["total"]) == (0, 50, len(entries))
        assert ("isLast" in task_page) is not jira.cloud
        by_id = {entry["fieldId"]: entry for entry in entries}
        default_screen = {
            "summary",
            "issuetype",
            "project",
            "description",
            "labels",
            "duedate",
            "fixVersions",
        }
        default_screen |= {"timetracking", "priority", "assignee", "reporter", "customfield_10050"}
        assert default_screen <= set(by_id)
        assert by_id["summary"]["required"] is True and by_id["labels"]["required"] is False
        assert by_id["labels"]["schema"] == {"type": "array", "items": "string", "system": "labels"}
        assert ("key" in by_id["summary"]) is jira.cloud
        epic = client(jira).get(f"{url}/{types['Epic']}").json()
        epic_ids = {entry["fieldId"] for entry in (epic["fields"] if jira.cloud else epic["values"])}
        subtask = client(jira).get(f"{url}/{types['Sub-task']}").json()
        subtask_ids = {entry["fieldId"] for entry in (subtask["fields"] if jira.cloud else subtask["values"])}
        if jira.cloud:
            assert "parent" in by_id and "parent" not in epic_ids and "parent" in subtask_ids
        else:
            assert "customfield_10100" in by_id and "customfield_10101" not in by_id
            assert "customfield_10101" in epic_ids and "customfield_10100" not in epic_ids
            assert "parent" in subtask_ids and "parent" not in by_id
        paged = client(jira).get(f"{url}/{types['Task']}", params={"startAt": 3, "maxResults": 4}).json()
        assert [e["fieldId"] for e in (paged["fields"] if jira.cloud else paged["values"])] == list(by_id)[
            3:7
        ]
        assert client(jira).get(f"{url}/99999").status_code == 404
        # The old createmeta is gone on Cloud (CHANGE-1304) and Data Center 9: it answers 404.
        old = client(jira).get(f"{jira.url}/rest/api/2/issue/createmeta", params={"projectKeys": "ISO"})
        assert old.status_code == 404


def test_a_field_off_an_issue_types_screen_is_refused_for_that_type(jira: FakeJira) -> None:
    audit = jira.add_field("Audit ref", "string")
    jira.remove_from_screen("Task", audit)
    refused = bulk(jira, task("t", **{audit: "A-1"}), task("s", "Story", **{audit: "A-1"}))
    assert refused.status_code == 201
    assert element_errors(refused) == [{audit: NOT_ON_SCREEN.format(audit)}]
    assert [jira.issue(c["key"])["fields"][audit] for c in refused.json()["issues"]] == ["A-1"]
    types = {t.name: t.id for t in jira.projects["ISO"].issue_types}
    meta = client(jira).get(f"{jira.url}/rest/api/2/issue/createmeta/ISO/issuetypes/{types['Task']}").json()
    assert audit not in {entry["fieldId"] for entry in meta.get("fields", meta.get("values", []))}
    # Read-only fields and another type's fields are refused the same way.
    assert element_errors(bulk(jira, task("t", timespent=5, status={"name": "Done"}))) == [
        {"timespent": NOT_ON_SCREEN.format("timespent"), "status": NOT_ON_SCREEN.format("status")}
    ]
    if jira.cloud:
        assert element_errors(bulk(jira, task("e", "Epic", parent={"key": "ISO-1"}))) == [
            {"parent": NOT_ON_SCREEN.format("parent")}
        ]
    else:
        epic = task("e", "Epic", customfield_10101="e", customfield_10100="ISO-1")
        assert element_errors(bulk(jira, epic)) == [
            {"customfield_10100": NOT_ON_SCREEN.format("customfield_10100")}
        ]


def test_permissions_shape_the_screens_and_refuse_writes(jira: FakeJira) -> None:
    http = client(jira)
    version = http.post(
        f"{jira.url}/rest/api/2/version", json={"name": "Gate", "projectId": jira.projects["ISO"].id}
    )
    issue = jira.create_issue("ISO", "existing")
    jira.permissions.update(SCHEDULE_ISSUES=False, RESOLVE_ISSUES=False)
    response = bulk(
        jira, task("due", duedate="2027-05-01"), task("fix", fixVersions=[{"id": version.json()["id"]}])
    )
    assert element_errors(response) == [
        {"duedate": NOT_ON_SCREEN.format("duedate")},
        {"fixVersions": NOT_ON_SCREEN.format("fixVersions")},
    ]
    task_type = next(t.id for t in jira.projects["ISO"].issue_types if t.name == "Task")
    meta = http.get(f"{jira.url}/rest/api/2/issue/createmeta/ISO/issuetypes/{task_type}").json()
    ids = {entry["fieldId"] for entry in meta.get("fields", meta.get("values", []))}
    assert "summary" in ids and not {"duedate", "fixVersions"} & ids
    edit = http.put(f"{jira.url}/rest/api/2/issue/{issue.key}", json={"fields": {"duedate": "2027-05-01"}})
    assert edit.status_code == 400 and edit.json()["errors"] == {"duedate": NOT_ON_SCREEN.format("duedate")}

    jira.permissions["CREATE_ISSUES"] = False
    refused = bulk(jira, task("a"), task("b"))
    assert refused.status_code == 400 and [e["failedElementNumber"] for e in refused.json()["errors"]] == [
        0,
        1,
    ]
    assert all("project" in errors for errors in element_errors(refused))
    empty = http.get(f"{jira.url}/rest/api/2/issue/createmeta/ISO/issuetypes/{task_type}").json()
    assert empty["total"] == 0

    jira.permissions.update(
        EDIT_ISSUES=False, LINK_ISSUES=False, ADD_COMMENTS=False, ADMINISTER_PROJECTS=False
    )
    other = jira.create_issue("ISO", "other")
    assert (
        http.put(f"{jira.url}/rest/api/2/issue/{issue.key}", json={"fields": {"summary": "x"}}).status_code
        == 403
    )
    link = {"type": {"name": "Blocks"}, "inwardIssue": {"key": issue.key}, "outwardIssue": {"key": other.key}}
    assert http.post(f"{jira.url}/rest/api/2/issueLink", json=link).status_code == 404 and jira.links == {}
    comment_url = f"{jira.url}/rest/api/2/issue/{issue.key}/comment"
    assert http.post(comment_url, json={"body": "hi"}).status_code == 403
    project_id = jira.projects["ISO"].id
    new_version = http.post(f"{jira.url}/rest/api/2/version", json={"name": "V", "projectId": project_id})
    assert new_version.status_code == (404 if jira.cloud else 403) and len(jira.versions) == 1

    params = {"projectKey": "ISO", "permissions": "CREATE_ISSUES,LINK_ISSUES,BROWSE_PROJECTS"}
    granted = http.get(f"{jira.url}/rest/api/2/mypermissions", params=params).json()["permissions"]
    assert {key: p["havePermission"] for key, p in granted.items()} == {
        "CREATE_ISSUES": False, "LINK_ISSUES": False, "BROWSE_PROJECTS": True,
    }  # fmt: skip


def test_editing_comments_needs_edit_own_or_edit_all(jira: FakeJira) -> None:
    issue = jira.create_issue("ISO", "commented")
    theirs = jira.add_comment(issue.key, "by someone else", author="anna.auditor")
    http = client(jira)
    url = f"{jira.url}/rest/api/2/issue/{issue.key}/comment"
    mine = http.post(url, json={"body": "mine"}).json()
    jira.permissions.update(EDIT_ALL_COMMENTS=False)
    assert http.put(f"{url}/{mine['id']}", json={"body": "mine, edited"}).status_code == 200
    assert http.put(f"{url}/{theirs.id}", json={"body": "hijacked"}).status_code == 403
    jira.permissions.update(EDIT_OWN_COMMENTS=False)
    assert http.put(f"{url}/{mine['id']}", json={"body": "again"}).status_code == 403
    jira.permissions.update(EDIT_ALL_COMMENTS=True)
    assert http.put(f"{url}/{theirs.id}", json={"body": "moderated"}).status_code == 200
    assert http.put(f"{url}/99999", json={"body": "x"}).status_code == 404


def test_edit_takes_fields_on_the_edit_screen_only(jira: FakeJira) -> None:
    issue = jira.create_issue("ISO", "before", labels=["a"])
    http = client(jira)
    url = f"{jira.url}/rest/api/2/issue/{issue.key}"
    assert (
        http.put(
            url, json={"fields": {"summary": "after", "labels": ["b"], "customfield_10050": 3}}
        ).status_code
        == 204
    )
    assert (issue["fields"]["summary"], issue["fields"]["labels"], issue["fields"]["customfield_10050"]) == (
        "after", ["b"], 3,
    )  # fmt: skip
    refused = http.put(url, json={"fields": {"issuetype": {"name": "Story"}, "summary": "a\nb"}})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "issuetype": NOT_ON_SCREEN.format("issuetype"),
        "summary": "The summary is invalid because it contains newline characters.",
    }
    assert http.put(url, json={"update": {"labels": [{"add": "c"}]}}).status_code == 400
    assert http.put(f"{jira.url}/rest/api/2/issue/ISO-99", json={"fields": {}}).status_code == 404


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
        url, json={"jql": "project = ISO ORDER BY key DESC", "fields": ["summary"], "maxResults": 5}
    )
    assert keys(first.json()["issues"]) == ["ISO-7", "ISO-6", "ISO-5", "ISO-4", "ISO-3"]
    token = first.json()["nextPageToken"]
    second = http.post(
        url, json={"jql": "project = ISO ORDER BY key DESC", "fields": ["summary"], "nextPageToken": token}
    )
    assert keys(second.json()["issues"]) == ["ISO-2", "ISO-1"] and second.json()["isLast"] is True
    assert http.post(url, json={"jql": "project = ISO", "nextPageToken": token}).status_code == 400
    assert http.post(url, json={"jql": "project = ISO", "nextPageToken": "made-up"}).status_code == 400
    assert http.post(url, json={"jql": "project = ISO", "startAt": 5}).status_code == 400


def test_cloud_search_returns_ids_only_without_fields_and_caps_max_results(cloud: FakeJira) -> None:
    for n in range(120):
        cloud.create_issue("ISO", f"task {n}")
    http = client(cloud)
    url = f"{cloud.url}/rest/api/3/search/jql"
    body = http.get(url, params={"jql": "project = ISO", "maxResults": 1000}).json()
    assert all(set(issue) == {"id"} for issue in body["issues"]) and len(body["issues"]) == 120
    with_fields = http.get(
        url, params={"jql": "project = ISO", "fields": "summary", "maxResults": 1000}
    ).json()
    assert len(with_fields["issues"]) == 100 and with_fields["isLast"] is False
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
    assert "summary" in first["issues"][0]["fields"]  # Data Center returns navigable fields by default


def test_only_the_requested_fields_are_returned(jira: FakeJira) -> None:
    issue = jira.create_issue("ISO", "with fields", labels=["plan-acme"], customfield_10050=10.0)
    [found] = search(jira, "project = ISO", fields="summary,labels,customfield_10050")
    assert found["fields"] == {"summary": "with fields", "labels": ["plan-acme"], "customfield_10050": 10.0}
    assert found["id"] == issue["id"] and found["key"] == "ISO-1"

    single = get_fields(jira, "ISO-1", "summary,status")
    assert set(single) == {"summary", "status"}
    assert single["status"]["statusCategory"]["key"] == "new"
    everything = client(jira).get(f"{jira.url}/rest/api/2/issue/{issue['id']}").json()["fields"]
    assert {"summary", "timetracking", "issuelinks", "created", "updated", "resolutiondate"} <= set(
        everything
    )
    assert JIRA_TIME.match(everything["created"])
    assert "labels" not in get_fields(jira, "ISO-1", "*all,-labels")


# -- eventual consistency ------------------------------------------------------------------------------


def test_new_issue_is_hidden_from_search_until_the_lag_passes_or_it_is_reconciled(timed: FakeJira) -> None:
    timed.consistency_lag = 30
    created = create(timed, task("fresh"))

    assert search(timed, "project = ISO") == []
    assert client(timed).get(created["self"]).status_code == 200  # GET issue is consistent at once
    if timed.cloud:
        assert keys(search(timed, "project = ISO", reconcileIssues=created["id"])) == [created["key"]]
        posted = client(timed).post(
            f"{timed.url}/rest/api/3/search/jql",
            json={"jql": "project = ISO", "fields": ["summary"], "reconcileIssues": [int(created["id"])]},
        )
        assert keys(posted.json()["issues"]) == [created["key"]]
    timed.clock.advance(29)  # type: ignore[attr-defined]
    assert search(timed, "project = ISO") == []
    timed.clock.advance(1)  # type: ignore[attr-defined]
    assert keys(search(timed, "project = ISO")) == [created["key"]]


def test_updated_issue_is_searched_in_its_previous_state_during_the_lag(timed: FakeJira) -> None:
    issue = timed.create_issue("ISO", "old summary", labels=["a"])
    timed.settle()
    timed.consistency_lag = 60
    response = client(timed).put(
        f"{timed.url}/rest/api/2/issue/{issue['key']}",
        json={"fields": {"summary": "new summary", "labels": ["b"]}},
    )
    assert response.status_code == 204

    [found] = search(timed, "project = ISO")
    assert found["fields"]["summary"] == "old summary"
    assert search(timed, 'labels = "b"') == []
    if timed.cloud:
        [fresh] = search(timed, "project = ISO", reconcileIssues=issue["id"])
        assert fresh["fields"]["summary"] == "new summary"
    timed.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert keys(search(timed, 'labels = "b"')) == [issue["key"]]
    timed.delete_issue(issue["key"])
    assert keys(search(timed, "project = ISO")) == [issue["key"]]  # the index lags deletions too
    timed.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert search(timed, "project = ISO") == []


def test_settle_makes_everything_visible(timed: FakeJira) -> None:
    timed.consistency_lag = 3600
    timed.create_issue("ISO", "a")
    assert search(timed, "project = ISO") == []
    timed.settle()
    assert keys(search(timed, "project = ISO")) == ["ISO-1"]


def test_reconciling_more_than_50_issues_is_refused(cloud: FakeJira) -> None:
    response = client(cloud).post(
        f"{cloud.url}/rest/api/3/search/jql",
        json={"jql": "project = ISO", "reconcileIssues": list(range(10000, 10051))},
    )
    assert response.status_code == 400
    assert "50" in response.json()["errorMessages"][0]


# -- faults, latency, rate limit (from the kit) --------------------------------------------------------


def test_injected_429_carries_retry_after_and_is_recorded(jira: FakeJira) -> None:
    jira.fail_next(status=429, retry_after=2)
    http = client(jira)
    url = f"{jira.url}/rest/api/2/project/ISO"
    refused = http.get(url)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    assert refused.json() == {"errorMessages": ["Rate limit exceeded."], "errors": {}}
    assert http.get(url).status_code == 200
    assert [(r.method, r.path, r.status) for r in jira.requests] == [
        ("GET", "/rest/api/2/project/ISO", 429),
        ("GET", "/rest/api/2/project/ISO", 200),
    ]
    assert jira.requests[0].time <= jira.requests[1].time

    jira.fail_next(status=503, retry_after=1, count=2, path="/issue/bulk")
    assert http.get(url).status_code == 200  # not matching the path: served normally
    statuses = [bulk(jira, task("x")) for _ in range(3)]
    assert [r.status_code for r in statuses] == [503, 503, 201]
    assert statuses[0].headers["Retry-After"] == "1"
    assert len(jira.requests_to("/issue/bulk", method="POST")) == 3


def test_fault_after_processing_does_the_work_and_reports_a_failure(jira: FakeJira) -> None:
    jira.fail_next(status=504, path="/rest/api/2/issue/bulk", method="POST", after_processing=True)
    assert bulk(jira, task("created anyway")).status_code == 504
    assert [issue["key"] for issue in jira.issues.values()] == ["ISO-1"]
    jira.drop_next(path="/issue/bulk")
    with pytest.raises(requests.ConnectionError):
        bulk(jira, task("created, answer lost"))
    assert len(jira.issues) == 2


def test_rate_limit_answers_429_beyond_n_requests_per_window(timed: FakeJira) -> None:
    timed.rate_limit(3)
    http = client(timed)
    statuses = [http.get(f"{timed.url}/rest/api/2/field").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert timed.requests[-1].status == 429
    timed.clock.advance(1)  # type: ignore[attr-defined]
    assert http.get(f"{timed.url}/rest/api/2/field").status_code == 200


def test_latency_is_added_to_every_response(jira: FakeJira) -> None:
    jira.latency = 0.2
    started = time.monotonic()
    assert client(jira).get(f"{jira.url}/rest/api/2/serverInfo").status_code == 200
    assert time.monotonic() - started >= 0.2
    assert jira.requests[0].time - started < 0.2  # recorded on arrival, before the delay


# -- authentication ------------------------------------------------------------------------------------


def test_wrong_or_missing_credentials_get_401_without_the_token(jira: FakeJira) -> None:
    url = f"{jira.url}/rest/api/2/field"
    attempts = [
        requests.get(url),
        requests.get(url, auth=(EMAIL, "wrong-token")),
        requests.get(url, headers={"Authorization": "Bearer wrong-token"}),
        requests.get(url, headers={"Authorization": f"Bearer {jira.token}"})  # Cloud takes Basic only
        if jira.cloud
        else requests.get(url, auth=("fake.user", jira.token)),  # Data Center takes a bearer PAT only
        requests.get(url, headers={"Authorization": "Basic not-base64!"}),
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
    assert client(jira).get(url).status_code == 200


def test_server_info_reports_the_deployment_type_anonymously(cloud: FakeJira, dc: FakeJira) -> None:
    cloud_info = requests.get(f"{cloud.url}/rest/api/3/serverInfo").json()
    assert cloud_info["deploymentType"] == "Cloud" and cloud_info["baseUrl"] == cloud.url
    dc_info = requests.get(f"{dc.url}/rest/api/2/serverInfo").json()
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
    [link] = jira.links.values()
    assert (link.inward_id, link.outward_id) == (blocker["id"], blocked["id"])

    [link_a] = get_fields(jira, "ISO-1", "issuelinks")["issuelinks"]
    assert link_a["type"]["name"] == "Blocks" and link_a["type"]["outward"] == "blocks"
    assert "inwardIssue" not in link_a
    assert (link_a["outwardIssue"]["id"], link_a["outwardIssue"]["key"]) == (blocked["id"], "ISO-2")

    [link_b] = get_fields(jira, "ISO-2", "*all")["issuelinks"]
    assert "outwardIssue" not in link_b
    assert (link_b["inwardIssue"]["id"], link_b["inwardIssue"]["key"]) == (blocker["id"], "ISO-1")
    assert link_b["id"] == link_a["id"]

    by_key = {issue["key"]: issue for issue in search(jira, "project = ISO", fields="issuelinks")}
    assert by_key["ISO-1"]["fields"]["issuelinks"][0]["outwardIssue"]["key"] == "ISO-2"
    assert by_key["ISO-2"]["fields"]["issuelinks"][0]["inwardIssue"]["key"] == "ISO-1"

    jira.delete_issue("ISO-2")  # deleted issues take their links with them
    assert jira.links == {} and get_fields(jira, "ISO-1", "issuelinks")["issuelinks"] == []


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
    assert len(jira.issue("ISO-1")["fields"]["issuelinks"]) == 1

    unknown = {**body, "outwardIssue": {"key": "ISO-99"}}
    assert http.post(f"{jira.url}/rest/api/2/issueLink", json=unknown).status_code == 404
    assert (
        http.post(f"{jira.url}/rest/api/2/issueLink", json={**body, "type": {"name": "Nope"}}).status_code
        == 404
    )
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
        "project = ISO AND": "Error in the JQL Query: Expecting a field name but got '<EOF>'.",
        'labels = "unterminated': "Error in the JQL Query: The quoted string starting at character 10",
        "project ISO": "Error in the JQL Query: Expecting operator but got 'ISO'.",
        "assignee = currentUser()": "Error in the JQL Query: Unable to find JQL function 'currentUser()'.",
        "project = ISO OR labels = x": "Error in the JQL Query: Expecting 'AND' or 'ORDER BY' but got 'OR'.",
        "foo = bar": "Field 'foo' does not exist or you do not have permission to view it.",
        "project != ISO": "The operator '!=' is not supported by the 'project' field.",
        "updated < -30m": "The operator '<' is not supported by the 'updated' field.",
        "project = NOPE": "The value 'NOPE' does not exist for the field 'project'.",
        "key in (ISO-99)": "An issue with key 'ISO-99' does not exist for field 'key'.",
        'updated >= "yesterday"': "Date value 'yesterday' for field 'updated' is invalid.",
        "project = ISO ORDER BY created": "Not able to sort using field 'created'.",
    }
    for jql, message in cases.items():
        response = client(jira).get(jira.url + path, params={"jql": jql})
        assert response.status_code == 400, jql
        assert response.json()["errorMessages"][0].startswith(message), (jql, response.json())


def test_relative_updated_finds_only_recent_changes(timed: FakeJira) -> None:
    old = timed.create_issue("ISO", "old")
    timed.clock.advance(hours=1)  # type: ignore[attr-defined]
    recent = timed.create_issue("ISO", "recent")
    assert keys(search(timed, 'project = ISO AND updated >= "-10m"')) == [recent["key"]]
    assert keys(search(timed, "project = ISO AND updated >= -90m ORDER BY key")) == [
        old["key"],
        recent["key"],
    ]
    assert keys(search(timed, 'updated >= "-2h" AND project = ISO ORDER BY id DESC')) == [
        recent["key"],
        old["key"],
    ]
    assert keys(search(timed, 'project = ISO AND updated >= "-1d"')) == [old["key"], recent["key"]]


def test_absolute_dates_are_in_the_user_time_zone(jira: FakeJira) -> None:
    issue = jira.create_issue("ISO", "dated")
    jira.set_field(issue["key"], "updated", datetime(2027, 1, 4, 9, 30, tzinfo=UTC))  # 10:30 in Berlin
    assert keys(search(jira, 'key in (ISO-1) AND updated >= "2027/01/04 10:00"')) == ["ISO-1"]
    assert search(jira, 'key in (ISO-1) AND updated >= "2027/01/04 11:00"') == []
    assert get_fields(jira, "ISO-1", "updated")["updated"] == "2027-01-04T10:30:00.000+0100"


def test_the_supported_jql_shapes_combine_with_and(jira: FakeJira) -> None:
    jira.add_project("OPS", name="Operations")
    first = jira.create_issue("ISO", "task a", labels=["plan-a", "task-1"])
    second = jira.create_issue("ISO", "task b", labels=["plan-b"])
    jira.create_issue("OPS", "other", labels=["plan-a"])
    jira.settle()
    assert keys(search(jira, 'labels = "plan-a"')) == ["ISO-1", "OPS-1"]  # key order by default
    assert keys(search(jira, 'project = ISO AND labels in ("plan-b", "task-1")')) == ["ISO-1", "ISO-2"]
    assert keys(search(jira, f"id in ({first['id']}, {second['id']}) ORDER BY key DESC")) == [
        "ISO-2",
        "ISO-1",
    ]
    assert keys(search(jira, "issue in (ISO-2, OPS-1) AND PROJECT = iso")) == ["ISO-2"]
    assert keys(search(jira, "project = OPS and labels = plan-a order by id asc")) == ["OPS-1"]


def test_parse_jql_takes_and_joined_clauses_and_one_order() -> None:
    clauses, order = parse_jql(
        'project = ISO AND labels in ("a b", c) AND updated >= "-15m" ORDER BY id DESC'
    )
    assert clauses == [
        ("project", "=", ("ISO",)),
        ("labels", "in", ("a b", "c")),
        ("updated", ">=", ("-15m",)),
    ]
    assert order == ("id", False)
    assert parse_jql("") == ([], None)
    with pytest.raises(JqlError, match=r"line 1, character 5"):
        parse_jql("a = (")
    with pytest.raises(JqlError, match=r"Expecting the end of the query but got ','"):
        parse_jql("project = ISO ORDER BY key, id")


# -- metadata, versions, comments, rich text, helpers --------------------------------------------------


def test_project_and_fields(jira: FakeJira) -> None:
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
    assert create(jira, task("with audit ref", **{added: "A-7"}))
    jira.remove_field("customfield_10050")
    refused = bulk(jira, task("x", customfield_10050=1))
    assert element_errors(refused) == [{"customfield_10050": NOT_ON_SCREEN.format("customfield_10050")}]

    params = {"projectKey": "ISO"}
    if jira.cloud:  # Cloud requires the permissions parameter
        assert http.get(f"{jira.url}/rest/api/2/mypermissions", params=params).status_code == 400
    else:
        everything = http.get(f"{jira.url}/rest/api/2/mypermissions", params=params).json()["permissions"]
        assert everything["CREATE_ISSUES"]["havePermission"] is True
    assert (
        http.get(
            f"{jira.url}/rest/api/2/mypermissions", params={"projectKey": "NOPE", "permissions": "X"}
        ).status_code
        == 404
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
    stored = jira.versions[version["id"]]
    assert (stored.name, stored.release_date, stored.description) == (
        "Stage 1 audit",
        "2027-06-30",
        "Certification",
    )
    duplicate = http.post(f"{jira.url}/rest/api/2/version", json={**body, "name": "stage 1 AUDIT"})
    assert duplicate.status_code == 400
    assert duplicate.json()["errors"] == {"name": "A version with this name already exists in this project."}
    bad_date = http.post(
        f"{jira.url}/rest/api/2/version", json={**body, "name": "x", "releaseDate": "30.06.2027"}
    )
    assert bad_date.json()["errors"] == {"releaseDate": "Error parsing date string: 30.06.2027"}
    assert [v["id"] for v in http.get(f"{jira.url}/rest/api/2/project/ISO/versions").json()] == [
        version["id"]
    ]

    issue = create(jira, task("gate", fixVersions=[{"id": version["id"]}]))
    fix_versions = get_fields(jira, issue["key"], "fixVersions")["fixVersions"]
    assert [(v["id"], v["name"]) for v in fix_versions] == [(version["id"], "Stage 1 audit")]


def test_comments_round_trip_and_bump_updated(timed: FakeJira) -> None:
    issue = timed.create_issue("ISO", "commented")
    http = client(timed)
    url = f"{timed.url}/rest/api/2/issue/ISO-1/comment"
    timed.clock.advance(60)  # type: ignore[attr-defined]
    created = http.post(url, json={"body": "Status: 40% complete"})
    assert created.status_code == 201
    comment = created.json()
    assert comment["body"] == "Status: 40% complete" and JIRA_TIME.match(comment["created"])
    assert issue["fields"]["updated"] == timed.clock()
    timed.clock.advance(60)  # type: ignore[attr-defined]
    updated = http.put(f"{url}/{comment['id']}", json={"body": "Status: 50% complete"})
    assert updated.status_code == 200 and updated.json()["body"] == "Status: 50% complete"
    assert issue["fields"]["updated"] == timed.clock() and updated.json()["updated"] != comment["updated"]
    listing = http.get(url).json()
    assert (listing["startAt"], listing["total"]) == (0, 1)
    assert [c["body"] for c in listing["comments"]] == ["Status: 50% complete"]
    for bad in ({"body": ""}, {"body": "  \n "}, {"body": {"type": "doc"}}, {}):
        assert http.post(url, json=bad).status_code == 400
    assert len(issue.comments) == 1  # a refused comment leaves nothing behind


def test_comment_pages_and_the_documented_caps(jira: FakeJira) -> None:
    issue = jira.create_issue("ISO", "busy")
    for n in range(60):
        jira.add_comment(issue["key"], f"note {n}")
    http = client(jira)
    url = f"{jira.url}/rest/api/2/issue/{issue['key']}/comment"
    default = http.get(url).json()
    # Cloud documents a maxResults default of 5000; Data Center 9 one of 50.
    assert default["maxResults"] == (5000 if jira.cloud else 50) and default["total"] == 60
    assert len(default["comments"]) == (60 if jira.cloud else 50)
    page = http.get(url, params={"startAt": 55, "maxResults": 10}).json()
    assert [c["body"] for c in page["comments"]] == [f"note {n}" for n in range(55, 60)]
    assert (page["startAt"], page["maxResults"], page["total"]) == (55, 10, 60)
    if jira.cloud:
        assert http.get(url, params={"maxResults": 9000}).json()["maxResults"] == 5000
    assert http.get(url, params={"maxResults": "many"}).status_code == 400


def test_cloud_keeps_comment_bodies_as_adf_and_reads_v2_back_lossily(cloud: FakeJira) -> None:
    issue = cloud.create_issue("ISO", "rich")
    http = client(cloud)
    wiki = (
        "Status:  *RED*  \r\nsee [the plan|https://example.com/plan] and [iso20k-sync status]\r\n"
        "\r\n_late_ by 3 days"
    )
    created = http.post(f"{cloud.url}/rest/api/2/issue/{issue['key']}/comment", json={"body": wiki}).json()
    stored = cloud.issue(issue["key"]).comments[0].body
    assert stored["type"] == "doc" and stored["version"] == 1
    [first, second] = stored["content"]
    assert {"type": "hardBreak"} in first["content"]
    assert {"type": "text", "text": "RED", "marks": [{"type": "strong"}]} in first["content"]
    link = {"type": "link", "attrs": {"href": "https://example.com/plan"}}
    assert {"type": "text", "text": "the plan", "marks": [link]} in first["content"]
    assert second["content"][0] == {"type": "text", "text": "late", "marks": [{"type": "em"}]}
    # Read back through v2 the document is wiki text again, but not the text that was sent.
    expected = (
        "Status:  *RED*\nsee [the plan|https://example.com/plan] and "
        "[iso20k-sync status|iso20k-sync status]\n\n_late_ by 3 days"
    )
    assert created["body"] == expected
    assert (
        http.get(f"{cloud.url}/rest/api/2/issue/{issue['key']}/comment").json()["comments"][0]["body"]
        == expected
    )
    v3 = http.get(f"{cloud.url}/rest/api/3/issue/{issue['key']}/comment").json()["comments"][0]
    assert v3["body"] == stored
    # v3 writes take ADF only, v2 writes wiki text only.
    assert (
        http.post(f"{cloud.url}/rest/api/3/issue/{issue['key']}/comment", json={"body": "plain"}).status_code
        == 400
    )
    assert (
        http.post(f"{cloud.url}/rest/api/2/issue/{issue['key']}/comment", json={"body": stored}).status_code
        == 400
    )
    assert (
        http.post(f"{cloud.url}/rest/api/3/issue/{issue['key']}/comment", json={"body": stored}).status_code
        == 201
    )
    assert adf_to_wiki(wiki_to_adf("plain text")) == "plain text"


def test_datacenter_keeps_wiki_text_as_is(dc: FakeJira) -> None:
    issue = dc.create_issue("ISO", "rich", description="[iso20k-sync acme:A1]  \r\n*x*")
    wiki = "Status:  *RED*  \r\n[iso20k-sync status]"
    created = client(dc).post(f"{dc.url}/rest/api/2/issue/{issue['key']}/comment", json={"body": wiki}).json()
    assert created["body"] == wiki and dc.issue(issue["key"]).comments[0].body == wiki
    assert get_fields(dc, issue["key"], "description")["description"] == "[iso20k-sync acme:A1]  \r\n*x*"


def test_rest_api_3_speaks_atlassian_document_format(cloud: FakeJira) -> None:
    document = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "iso20k: acme/A1"}]}],
    }
    plain = bulk(cloud, task("x", description="not a document"), api="3")
    assert "description" in element_errors(plain)[0]
    created = create(cloud, task("x", description=document), api="3")
    assert get_fields(cloud, created["key"], "description", api="3")["description"] == document
    assert get_fields(cloud, created["key"], "description")["description"] == "iso20k: acme/A1"
    from_v2 = create(cloud, task("y", description="line one\nline two"))
    stored = cloud.issue(from_v2["key"])["fields"]["description"]
    assert stored["content"][0]["content"][1] == {"type": "hardBreak"}


def test_user_helpers_change_status_time_tracking_and_updated(timed: FakeJira) -> None:
    issue = timed.create_issue("ISO", "work", timetracking={"originalEstimate": "2d"})
    before = issue["fields"]["updated"]
    timed.clock.advance(60)  # type: ignore[attr-defined]
    timed.transition(issue["key"], "In Progress", "indeterminate")
    timed.log_work(issue["key"], 3 * 3600)
    fields = get_fields(timed, "ISO-1", "*all")
    assert fields["status"]["statusCategory"]["key"] == "indeterminate"
    assert (fields["timeoriginalestimate"], fields["timespent"], fields["timeestimate"]) == (
        57600,
        10800,
        46800,
    )
    assert fields["timetracking"]["timeSpent"] == "3h" and fields["timetracking"]["originalEstimate"] == "2d"
    assert fields["aggregatetimespent"] == 10800 and fields["resolutiondate"] is None
    assert timed.issue("ISO-1")["fields"]["updated"] > before

    timed.create_issue("ISO", "hours", timetracking={"originalEstimate": "16h"})
    assert get_fields(timed, "ISO-2", "timeoriginalestimate") == {"timeoriginalestimate": 16 * 3600}

    timed.transition(issue["key"], "Done", "done")
    fields = get_fields(timed, "ISO-1", "status,resolutiondate")
    assert fields["status"]["statusCategory"]["key"] == "done"
    assert fields["resolutiondate"] == "2027-01-04T10:01:00.000+0100"
    timed.transition(issue["key"], "Verified", "done")  # a new status needs its category
    with pytest.raises(ValueError):
        timed.transition(issue["key"], "Unheard of")

    timed.add_project("OPS")
    new_key = timed.move_issue("ISO-1", "OPS")
    assert new_key == "OPS-1"
    assert client(timed).get(f"{timed.url}/rest/api/2/issue/ISO-1").json()["key"] == "OPS-1"
    timed.settle()
    assert keys(search(timed, "project = OPS", fields="project")) == ["OPS-1"]
    timed.delete_issue("OPS-1")
    assert client(timed).get(f"{timed.url}/rest/api/2/issue/OPS-1").status_code == 404


def test_unknown_paths_are_404_and_wrong_methods_405(jira: FakeJira) -> None:
    http = client(jira)
    missing = http.get(f"{jira.url}/rest/api/2/nothing-here")
    assert missing.status_code == 404 and missing.json()["errorMessages"]
    wrong = http.delete(f"{jira.url}/rest/api/2/search")
    assert wrong.status_code == 405 and set(wrong.headers["Allow"].split(", ")) == {"GET", "POST"}
    not_found = http.get(f"{jira.url}/rest/api/2/issue/ISO-1").json()["errorMessages"]
    assert not_found == (
        ["Issue does not exist or you do not have permission to see it."]
        if jira.cloud
        else ["Issue Does Not Exist"]
    )
    malformed = http.post(
        f"{jira.url}/rest/api/2/issue/bulk", data=b"{", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["errorMessages"][0].startswith(
        "Unexpected character"
    )

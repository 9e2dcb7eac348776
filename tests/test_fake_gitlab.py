"""The fake GitLab answers like GitLab's REST API v4 in the details a connector depends on.

Plain ``requests`` calls against the running fake: its strictness, every refusal, pagination (offset and
keyset), quick actions, tiers and rate limits (with and without headers), and the helpers acting in the UI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from .fakes.gitlab import (
    BLOCKED_UNLICENSED,
    DEVELOPER,
    GUEST,
    MAINTAINER,
    OWNER,
    REPORTER,
    THROTTLED,
    FakeGitLab,
    extract_commands,
    format_duration,
    parse_duration,
)
from .fakes.kit import ManualClock

PROJECT = "/projects/group%2Fiso20k"


def call(gitlab: FakeGitLab, method: str, path: str, *, token: str | None = None,
         **kwargs: Any) -> requests.Response:  # fmt: skip
    """One request to ``/api/v4{path}`` with the fake's token in PRIVATE-TOKEN (or ``token``)."""
    headers = {"PRIVATE-TOKEN": token or gitlab.token, **kwargs.pop("headers", {})}
    return requests.request(method, f"{gitlab.url}/api/v4{path}", headers=headers, timeout=10, **kwargs)


def follow(gitlab: FakeGitLab, url: str) -> requests.Response:
    """GET a link as GitLab gave it (rel="next", "last", ...)."""
    return requests.get(url, headers={"PRIVATE-TOKEN": gitlab.token}, timeout=10)


def new_issue(gitlab: FakeGitLab, title: str = "Task", **fields: Any) -> dict[str, Any]:
    response = call(gitlab, "POST", f"{PROJECT}/issues", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def clock_of(gitlab: FakeGitLab) -> ManualClock:
    assert isinstance(gitlab.clock, ManualClock)
    return gitlab.clock


@pytest.fixture
def make() -> Iterator[Callable[..., FakeGitLab]]:
    """Start fakes (on a manual clock, rate limits off unless asked) with the project group/iso20k."""
    started: list[FakeGitLab] = []

    def start(**options: Any) -> FakeGitLab:
        fake = FakeGitLab(**{"clock": ManualClock(), "rate_limits": False, **options})
        started.append(fake)
        fake.add_project("group/iso20k")
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def gitlab(make: Callable[..., FakeGitLab]) -> FakeGitLab:
    return make()


@pytest.fixture
def premium(make: Callable[..., FakeGitLab]) -> FakeGitLab:
    return make(tier="premium")


# -- tokens, versions, projects, tiers -----------------------------------------------------------------


def test_a_bad_token_is_401_and_a_token_needs_the_api_scope(make: Callable[..., FakeGitLab]) -> None:
    gitlab = make()
    assert call(gitlab, "GET", PROJECT, token="wrong").json() == {"message": "401 Unauthorized"}
    bearer = call(
        gitlab, "GET", PROJECT, headers={"PRIVATE-TOKEN": "", "Authorization": f"Bearer {gitlab.token}"}
    )
    assert bearer.status_code == 200

    reader = make(scopes=["read_api"])
    assert call(reader, "GET", PROJECT).status_code == 200
    refused = call(reader, "POST", f"{PROJECT}/issues", json={"title": "x"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope" and refused.json()["scope"] == "api"
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]

    profile_only = make(scopes=["read_user"])
    assert call(profile_only, "GET", PROJECT).json()["scope"] == "api read_api"
    token = call(profile_only, "GET", "/personal_access_tokens/self").json()
    assert token["scopes"] == ["read_user"] and token["active"] is True and token["user_id"] == 1


def test_version_and_the_plan_only_where_gitlab_shows_it(make: Callable[..., FakeGitLab]) -> None:
    hosted = make(tier="premium")
    hosted.add_group("group", access=OWNER)
    assert call(hosted, "GET", "/version").json()["enterprise"] is True
    assert call(hosted, "GET", "/namespaces/group").json()["plan"] == "premium"
    assert "plan" not in call(hosted, "GET", PROJECT).json()["namespace"]  # not on the project's namespace
    hosted.set_access("group", DEVELOPER)
    assert "plan" not in call(hosted, "GET", "/namespaces/group").json()  # Maintainers and Owners only
    assert call(hosted, "GET", "/namespaces/nowhere").json() == {"message": "404 Namespace Not Found"}

    licensed = make(hosted=False, tier="ultimate")
    licensed.add_group("group", access=MAINTAINER)
    assert call(licensed, "GET", "/namespaces/group").json()["plan"] == "default"

    community = make(hosted=False, enterprise=False)
    community.add_group("group", access=OWNER)
    assert call(community, "GET", "/version").json() == {
        "version": "18.3.0", "revision": "5c1b1b0c5d2", "enterprise": False,
        "kas": {"enabled": False, "externalUrl": None, "externalK8sProxyUrl": None, "version": None},
    }  # fmt: skip
    assert "plan" not in call(community, "GET", "/namespaces/group").json()
    with pytest.raises(ValueError, match="no paid tier"):
        FakeGitLab(hosted=False, enterprise=False, tier="premium")


def test_a_project_by_id_or_encoded_path_and_404_when_hidden(gitlab: FakeGitLab) -> None:
    project = call(gitlab, "GET", PROJECT).json()
    assert project["path_with_namespace"] == "group/iso20k" and project["namespace"]["kind"] == "group"
    assert project["permissions"] == {"project_access": {"access_level": 40, "notification_level": 3},
                                      "group_access": None}  # fmt: skip
    assert call(gitlab, "GET", f"/projects/{project['id']}").json()["id"] == project["id"]
    unencoded = call(gitlab, "GET", "/projects/group/iso20k")
    assert (unencoded.status_code, unencoded.json()) == (404, {"error": "404 Not Found"})
    gitlab.add_project("other/secret", access=None)
    hidden = call(gitlab, "GET", "/projects/other%2Fsecret")
    assert (hidden.status_code, hidden.json()) == (404, {"message": "404 Project Not Found"})
    assert call(gitlab, "GET", "/groups/other").json() == {"message": "404 Group Not Found"}
    gitlab.add_group("group", access=REPORTER)
    assert call(gitlab, "GET", "/groups/group").json()["full_path"] == "group"
    member = call(gitlab, "GET", f"/groups/group/members/all/{gitlab.user.id}").json()
    assert member["access_level"] == REPORTER and member["username"] == "sync-bot"


def test_creating_a_project_needs_the_right_to_in_its_group(gitlab: FakeGitLab) -> None:
    acme = gitlab.add_group("acme", access=DEVELOPER)
    created = call(
        gitlab, "POST", "/projects", json={"name": "Plan", "path": "plan", "namespace_id": acme.id}
    )
    assert created.status_code == 201 and created.json()["path_with_namespace"] == "acme/plan"
    again = call(gitlab, "POST", "/projects", json={"name": "Plan", "path": "plan", "namespace_id": acme.id})
    assert again.json() == {
        "message": {"name": ["has already been taken"], "path": ["has already been taken"]}
    }

    strict = gitlab.add_group("strict", access=DEVELOPER, project_creation_level="maintainer")
    refused = call(gitlab, "POST", "/projects", json={"path": "plan", "namespace_id": strict.id})
    assert (refused.status_code, refused.json()) == (400, {"message": {"namespace": ["is not valid"]}})
    gitlab.set_access("acme", REPORTER)
    assert call(gitlab, "POST", "/projects", json={"path": "x", "namespace_id": acme.id}).status_code == 400

    gitlab.projects_limit = 0
    personal = call(gitlab, "POST", "/projects", json={"name": "Mine"})
    assert personal.status_code == 403 and personal.json()["message"][0].startswith(
        "Personal project creation"
    )
    nameless = call(gitlab, "POST", "/projects", json={"namespace_id": acme.id})
    assert nameless.json() == {"error": "name, path are missing, at least one parameter must be provided"}


# -- milestones and labels -----------------------------------------------------------------------------


def test_milestones_are_unique_by_title_and_filtered_exactly(gitlab: FakeGitLab) -> None:
    path = f"{PROJECT}/milestones"
    v1 = call(gitlab, "POST", path, json={"title": "v1", "description": "Gate 1", "start_date": "2027-02-01",
                                          "due_date": "2027-03-01"})  # fmt: skip
    assert v1.status_code == 201 and v1.json()["iid"] == 1 and v1.json()["state"] == "active"
    call(gitlab, "POST", path, json={"title": "v10"})
    duplicate = call(gitlab, "POST", path, json={"title": "v1"})
    assert duplicate.status_code == 400
    assert duplicate.json() == {"message": 'Failed to create milestone {:title=>["already being used for '
                                           'another group or project milestone."]}'}  # fmt: skip
    same_day = call(
        gitlab, "POST", path, json={"title": "g", "start_date": "2027-03-01", "due_date": "2027-03-01"}
    )
    assert same_day.json()["message"].endswith('{:due_date=>["must be greater than start date"]}')
    assert [m["title"] for m in call(gitlab, "GET", path, params={"title": "v1"}).json()] == ["v1"]
    assert len(call(gitlab, "GET", path, params={"search": "V1"}).json()) == 2

    moved = call(gitlab, "PUT", f"{path}/{v1.json()['id']}", json={"due_date": "2027-03-15"})
    assert moved.status_code == 200 and moved.json()["due_date"] == "2027-03-15"
    assert call(gitlab, "PUT", f"{path}/99999", json={"title": "x"}).json() == {"message": "404 Not found"}
    assert (
        "at least one parameter" in call(gitlab, "PUT", f"{path}/{v1.json()['id']}", json={}).json()["error"]
    )
    gitlab.set_access("group/iso20k", GUEST)
    assert call(gitlab, "POST", path, json={"title": "v2"}).json() == {"message": "403 Forbidden"}


def test_labels_conflict_and_an_issue_creates_the_labels_it_names(gitlab: FakeGitLab) -> None:
    path = f"{PROJECT}/labels"
    assert call(gitlab, "POST", path, json={"name": "plan::acme", "color": "#336699"}).status_code == 201
    assert call(gitlab, "POST", path, json={"name": "plan::acme", "color": "#336699"}).json() == {
        "message": "Label already exists"}  # fmt: skip
    assert call(gitlab, "POST", path, json={"name": "x"}).json() == {"error": "color is missing"}
    assert call(gitlab, "POST", path, json={"name": "x", "color": "blurple"}).status_code == 400
    new_issue(gitlab, labels="plan::acme,phase-1")
    labels = {label["name"]: label for label in call(gitlab, "GET", path).json()}
    assert labels["phase-1"]["color"] == "#6699cc" and labels["plan::acme"]["open_issues_count"] == 1


# -- issues ----------------------------------------------------------------------------------------------


def test_an_issue_reads_back_in_gitlabs_shape_and_refuses_what_gitlab_refuses(gitlab: FakeGitLab) -> None:
    milestone = call(gitlab, "POST", f"{PROJECT}/milestones", json={"title": "v1"}).json()
    issue = new_issue(gitlab, description="Steps\n- [ ] one\n- [x] two\n* [X] three", labels=["b", "a"],
                      milestone_id=milestone["id"], due_date="2027-03-01")  # fmt: skip
    assert issue["iid"] == 1 and issue["labels"] == ["a", "b"] and issue["state"] == "opened"
    assert issue["milestone"]["title"] == "v1" and issue["due_date"] == "2027-03-01"
    assert issue["task_completion_status"] == {"count": 3, "completed_count": 2}
    assert issue["references"] == {"short": "#1", "relative": "#1", "full": "group/iso20k#1"}
    assert issue["web_url"] == f"{gitlab.url}/group/iso20k/-/issues/1"
    assert issue["created_at"] == "2027-01-04T09:00:00.000Z" and issue["closed_at"] is None
    assert issue["time_stats"] == {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None,
                                   "human_total_time_spent": None}  # fmt: skip
    assert "weight" not in issue and issue["moved_to_id"] is None

    def refusal(**fields: Any) -> tuple[int, Any]:
        response = call(gitlab, "POST", f"{PROJECT}/issues", json=fields)
        return response.status_code, response.json()

    assert refusal(title="x" * 256) == (
        400,
        {"message": {"title": ["is too long (maximum is 255 characters)"]}},
    )
    assert refusal(description="d") == (400, {"error": "title is missing"})
    assert refusal(title="x", description="d" * 1_048_577) == (
        400, {"message": {"description": ["is too long (maximum is 1048576 characters)"]}})  # fmt: skip
    assert refusal(title="x", milestone_id="soon") == (400, {"error": "milestone_id is invalid"})
    lenient = new_issue(gitlab, milestone_id=99999, due_date="next week")  # dropped, as GitLab does
    assert lenient["milestone"] is None and lenient["due_date"] is None
    assert call(gitlab, "GET", f"{PROJECT}/issues/99").json() == {"message": "404 Not found"}


def test_quick_actions_run_on_create_and_leave_the_description(gitlab: FakeGitLab) -> None:
    call(gitlab, "POST", f"{PROJECT}/labels", json={"name": "ready", "color": "#00ff00"})
    call(gitlab, "POST", f"{PROJECT}/milestones", json={"title": "v1"})
    text = ("Intro\n/estimate 3d\n/Spend 1h 30m\n/label ~ready ~unknown\n/due 2027-03-01\n/milestone %v1\n"
            "/close\n\\/close\n  /close\n/assign @me\n```\n/close\n```\nend   \r\n")  # fmt: skip
    issue = new_issue(gitlab, description=text)
    assert issue["description"] == "Intro\n\\/close\n  /close\n/assign @me\n```\n/close\n```\nend"
    assert (
        issue["time_stats"]["human_time_estimate"] == "3d" and issue["time_stats"]["total_time_spent"] == 5400
    )
    assert issue["labels"] == ["ready"]  # /label takes existing labels only
    assert issue["due_date"] == "2027-03-01" and issue["milestone"]["title"] == "v1"
    assert issue["state"] == "opened"  # /close needs a saved issue: removed, and nothing happens
    assert [(n.body, n.system) for n in gitlab.notes_of("group/iso20k", 1)] == [
        ("changed time estimate to 3d", True), ("added 1h 30m of time spent", True)]  # fmt: skip


def test_quick_actions_on_update_and_the_escape(gitlab: FakeGitLab) -> None:
    new_issue(gitlab)
    clock_of(gitlab).advance(minutes=5)
    closed = call(gitlab, "PUT", f"{PROJECT}/issues/1", json={"description": "Done\n/close"}).json()
    assert closed["description"] == "Done" and closed["state"] == "closed"
    assert closed["closed_at"] == closed["updated_at"] == "2027-01-04T09:05:00.000Z"
    kept = call(gitlab, "PUT", f"{PROJECT}/issues/1", json={"description": "\\/reopen"}).json()
    assert kept["description"] == "\\/reopen" and kept["state"] == "closed"
    assert extract_commands("a\n/estimate 2h\nb") == ("a\nb", [("estimate", "2h")])
    assert (parse_duration("1mo 1w 1d 1h 30m"), parse_duration("2"), parse_duration("soon")) == (
        (160 + 40 + 8 + 1.5) * 3600, 7200, None)  # fmt: skip
    assert format_duration(3 * 8 * 3600 + 1800) == "3d 30m"


def test_updates_move_updated_at_only_when_something_changes(gitlab: FakeGitLab) -> None:
    new_issue(gitlab, title="A", labels="x")
    clock_of(gitlab).advance(60)
    same = call(gitlab, "PUT", f"{PROJECT}/issues/1", json={"title": "A"}).json()
    assert same["updated_at"] == "2027-01-04T09:00:00.000Z"
    changed = call(gitlab, "PUT", f"{PROJECT}/issues/1", json={"title": "B", "add_labels": "y"}).json()
    assert changed["updated_at"] == "2027-01-04T09:01:00.000Z" and changed["labels"] == ["x", "y"]
    assert gitlab.notes_of("group/iso20k", 1)[-1].body == "changed title from **A** to **B**"
    assert call(gitlab, "PUT", f"{PROJECT}/issues/1", json={"colour": "red"}).status_code == 400
    assert (
        call(gitlab, "PUT", f"{PROJECT}/issues/1", json={"state_event": "close"}).json()["state"] == "closed"
    )


def test_a_guest_may_report_but_its_metadata_is_dropped(gitlab: FakeGitLab) -> None:
    gitlab.set_access("group/iso20k", GUEST)
    issue = new_issue(gitlab, labels="x", description="Hi\n/estimate 1h")
    assert (
        issue["labels"] == [] and issue["time_stats"]["time_estimate"] == 0 and issue["description"] == "Hi"
    )
    assert (
        call(gitlab, "POST", f"{PROJECT}/issues/1/add_spent_time", params={"duration": "1h"}).status_code
        == 403
    )


def test_time_spent_through_the_api(gitlab: FakeGitLab) -> None:
    new_issue(gitlab)
    clock_of(gitlab).advance(30)
    spent = call(gitlab, "POST", f"{PROJECT}/issues/1/add_spent_time", params={"duration": "1h30m"})
    assert (spent.status_code, spent.json()["human_total_time_spent"]) == (201, "1h 30m")
    assert gitlab.issue("group/iso20k", 1).updated_at == clock_of(gitlab)()
    assert (
        call(gitlab, "POST", f"{PROJECT}/issues/1/add_spent_time", params={"duration": "-3h"}).status_code
        == 400
    )
    assert call(gitlab, "POST", f"{PROJECT}/issues/1/add_spent_time").json() == {
        "error": "duration is missing"
    }


def test_a_form_encoded_body_is_read_like_json(gitlab: FakeGitLab) -> None:
    response = call(
        gitlab, "POST", f"{PROJECT}/issues", data={"title": "Form", "labels": "a,b", "weight": "3"}
    )
    assert response.status_code == 201 and response.json()["labels"] == ["a", "b"]


# -- notes -----------------------------------------------------------------------------------------------


def test_notes_touch_the_issue_and_only_their_author_may_edit_them(gitlab: FakeGitLab) -> None:
    new_issue(gitlab)
    clock_of(gitlab).advance(60)
    mine = call(gitlab, "POST", f"{PROJECT}/issues/1/notes", json={"body": "Status: on track"})
    assert mine.status_code == 201 and mine.json()["author"]["username"] == "sync-bot"
    assert call(gitlab, "GET", f"{PROJECT}/issues/1").json()["updated_at"] == "2027-01-04T09:01:00.000Z"
    theirs = gitlab.add_note("group/iso20k", 1, "Looks late to me", author="alice")
    assert theirs is not None
    refused = call(gitlab, "PUT", f"{PROJECT}/issues/1/notes/{theirs.id}", json={"body": "edited"})
    assert (refused.status_code, refused.json()) == (403, {"message": "403 Forbidden"})
    clock_of(gitlab).advance(60)
    edited = call(
        gitlab, "PUT", f"{PROJECT}/issues/1/notes/{mine.json()['id']}", json={"body": "Status: late"}
    )
    assert edited.json()["updated_at"] == "2027-01-04T09:02:00.000Z"
    assert call(gitlab, "GET", f"{PROJECT}/issues/1").json()["updated_at"] == "2027-01-04T09:02:00.000Z"

    only_commands = call(gitlab, "POST", f"{PROJECT}/issues/1/notes", json={"body": "/spend 2h"})
    assert only_commands.status_code == 202
    assert only_commands.json() == {
        "commands_changes": {"spend_time": 7200},
        "summary": ["Added spent time."],
    }
    listed = call(
        gitlab, "GET", f"{PROJECT}/issues/1/notes", params={"sort": "asc", "order_by": "created_at"}
    )
    assert [(n["body"], n["system"]) for n in listed.json()] == [
        ("Status: late", False), ("Looks late to me", False), ("added 2h of time spent", True)]  # fmt: skip
    assert call(gitlab, "POST", f"{PROJECT}/issues/1/notes", json={"body": " "}).status_code == 400


# -- tiers and links -------------------------------------------------------------------------------------


def test_free_refuses_blocking_links_and_ignores_weight(gitlab: FakeGitLab) -> None:
    first, second = new_issue(gitlab, weight=3), new_issue(gitlab)
    assert "weight" not in first and "weight" not in call(gitlab, "GET", f"{PROJECT}/issues/1").json()
    body = {"target_project_id": "group/iso20k", "target_issue_iid": second["iid"], "link_type": "blocks"}
    blocked = call(gitlab, "POST", f"{PROJECT}/issues/1/links", json=body)
    assert (blocked.status_code, blocked.json()) == (403, {"message": BLOCKED_UNLICENSED})
    related = call(gitlab, "POST", f"{PROJECT}/issues/1/links", json=body | {"link_type": "relates_to"})
    assert related.status_code == 201 and related.json()["link_type"] == "relates_to"
    alice = gitlab.add_member("group/iso20k", "alice", DEVELOPER)
    bob = gitlab.add_member("group/iso20k", "bob", DEVELOPER)
    assigned = new_issue(gitlab, assignee_ids=[alice.id, bob.id])
    assert [a["username"] for a in assigned["assignees"]] == ["alice"]  # one assignee below Premium


def test_premium_keeps_weight_and_links_read_from_both_sides(premium: FakeGitLab) -> None:
    first, second = new_issue(premium, weight=3), new_issue(premium)
    assert first["weight"] == 3 and second["weight"] is None
    body = {"target_project_id": first["project_id"], "target_issue_iid": 2, "link_type": "blocks"}
    created = call(premium, "POST", f"{PROJECT}/issues/1/links", json=body)
    assert created.status_code == 201 and created.json()["target_issue"]["iid"] == 2
    from_first = call(premium, "GET", f"{PROJECT}/issues/1/links").json()
    from_second = call(premium, "GET", f"{PROJECT}/issues/2/links").json()
    assert [(i["iid"], i["link_type"]) for i in from_first] == [(2, "blocks")]
    assert [(i["iid"], i["link_type"]) for i in from_second] == [(1, "is_blocked_by")]
    assert from_first[0]["issue_link_id"] == from_second[0]["issue_link_id"]
    back = {"target_project_id": "group/iso20k", "target_issue_iid": 1, "link_type": "is_blocked_by"}
    again = call(premium, "POST", f"{PROJECT}/issues/2/links", json=back)
    assert (again.status_code, again.json()) == (409, {"message": "Issue(s) already assigned"})
    assert [n.body for n in premium.notes_of("group/iso20k", 2)] == ["marked this issue as blocked by #1"]
    missing = call(premium, "POST", f"{PROJECT}/issues/1/links", json=body | {"target_issue_iid": 99})
    assert missing.json() == {"message": "404 Not found"}
    assert call(premium, "PUT", f"{PROJECT}/issues/1", json={"weight": -1}).status_code == 400


def test_tiers_are_per_namespace_on_gitlab_com_and_one_licence_self_managed(
    make: Callable[..., FakeGitLab],
) -> None:
    hosted = make()
    hosted.add_project("paid/plan", tier="ultimate")
    response = call(hosted, "POST", "/projects/paid%2Fplan/issues", json={"title": "t", "weight": 2})
    assert response.json()["weight"] == 2
    assert "weight" not in new_issue(hosted, weight=2)  # group/iso20k stays Free
    licensed = make(hosted=False, tier="premium")
    assert new_issue(licensed, weight=1)["weight"] == 1
    with pytest.raises(ValueError, match="one licence"):
        licensed.add_project("other/plan", tier="free")


# -- pagination and order ------------------------------------------------------------------------------


def test_offset_pagination_headers(gitlab: FakeGitLab) -> None:
    for number in range(5):
        gitlab.create_issue("group/iso20k", f"Task {number}")
    page = call(
        gitlab, "GET", f"{PROJECT}/issues", params={"per_page": 2, "page": 2, "order_by": "created_at"}
    )
    names = ("X-Page", "X-Per-Page", "X-Next-Page", "X-Prev-Page", "X-Total", "X-Total-Pages")
    assert [page.headers[name] for name in names] == ["2", "2", "3", "1", "5", "3"]
    assert set(page.links) == {"prev", "next", "first", "last"}
    assert page.links["next"]["url"] == (f"{gitlab.url}/api/v4/projects/group%2Fiso20k/issues?"
                                         "order_by=created_at&page=3&per_page=2")  # fmt: skip
    last = follow(gitlab, page.links["last"]["url"])
    assert len(last.json()) == 1 and last.headers["X-Next-Page"] == "" and "next" not in last.links
    capped = call(gitlab, "GET", f"{PROJECT}/issues", params={"per_page": 500})
    assert capped.headers["X-Per-Page"] == "100" and len(capped.json()) == 5
    assert call(gitlab, "GET", f"{PROJECT}/issues", params={"per_page": "many"}).json() == {
        "error": "per_page is invalid"}  # fmt: skip


def test_no_total_above_ten_thousand_rows(gitlab: FakeGitLab) -> None:
    for number in range(10_001):
        gitlab.create_issue("group/iso20k", f"Task {number}")
    page = call(gitlab, "GET", f"{PROJECT}/issues", params={"order_by": "id", "sort": "asc"})
    assert "X-Total" not in page.headers and "X-Total-Pages" not in page.headers
    assert page.headers["X-Next-Page"] == "2" and set(page.links) == {"next", "first"}


def test_keyset_pagination_gives_only_a_next_link(gitlab: FakeGitLab) -> None:
    for number in range(6):
        gitlab.create_issue("group/iso20k", f"Task {number}", labels=["plan"] if number != 3 else [])
    gitlab.delete_issue("group/iso20k", 2)
    params = {"labels": "plan", "state": "all", "per_page": 2, "order_by": "id", "sort": "asc",
              "pagination": "keyset"}  # fmt: skip
    response, iids, pages = call(gitlab, "GET", f"{PROJECT}/issues", params=params), [], 0
    while True:
        pages += 1
        assert not [name for name in response.headers if name.startswith("X-")]
        iids += [issue["iid"] for issue in response.json()]
        if "next" not in response.links:
            break
        assert set(response.links) == {"next"} and "cursor=" in response.links["next"]["url"]
        response = follow(gitlab, response.links["next"]["url"])
    assert (iids, pages) == ([1, 3, 5, 6], 2)
    newest = call(gitlab, "GET", f"{PROJECT}/issues", params=params | {"sort": "desc", "per_page": 3}).json()
    assert [issue["iid"] for issue in newest] == [6, 5, 3]
    bad = call(gitlab, "GET", f"{PROJECT}/issues", params=params | {"cursor": "not-a-cursor"})
    assert bad.json() == {"error": "cursor is invalid"}


def test_before_18_3_keyset_is_ignored_on_issues_and_order_by_id_refused(
    make: Callable[..., FakeGitLab],
) -> None:
    older = make(version="17.5.0-ee")
    new_issue(older)
    params = {"pagination": "keyset", "order_by": "created_at", "sort": "asc"}
    assert call(older, "GET", f"{PROJECT}/issues", params=params).headers["X-Total"] == "1"
    refused = call(older, "GET", f"{PROJECT}/issues", params=params | {"order_by": "id"})
    assert refused.json() == {"error": "order_by does not have a valid value"}


def test_lists_come_in_no_guaranteed_order_unless_asked(gitlab: FakeGitLab) -> None:
    for number in range(12):
        gitlab.create_issue("group/iso20k", f"Task {number}", labels=[f"label-{number}"])
    iids = [issue["iid"] for issue in call(gitlab, "GET", f"{PROJECT}/issues").json()]
    assert sorted(iids) == list(range(1, 13)) and iids not in (sorted(iids), sorted(iids, reverse=True))
    assert [issue["iid"] for issue in call(gitlab, "GET", f"{PROJECT}/issues").json()] == iids  # stable pages
    ordered = call(gitlab, "GET", f"{PROJECT}/issues", params={"order_by": "id", "sort": "asc"}).json()
    assert [issue["iid"] for issue in ordered] == list(range(1, 13))
    names = [label["name"] for label in call(gitlab, "GET", f"{PROJECT}/labels").json()]
    assert names != sorted(names)


def test_filters_labels_all_of_them_and_updated_after(gitlab: FakeGitLab) -> None:
    gitlab.create_issue("group/iso20k", "both", labels=["a", "b"])
    gitlab.create_issue("group/iso20k", "one", labels=["a"])
    clock_of(gitlab).advance(hours=1)
    gitlab.close_issue("group/iso20k", 2)

    def titles(**params: Any) -> list[str]:
        return sorted(
            issue["title"] for issue in call(gitlab, "GET", f"{PROJECT}/issues", params=params).json()
        )

    assert titles(labels="a,b") == ["both"] and titles(labels="a") == ["both", "one"]
    assert titles(updated_after="2027-01-04T09:30:00Z") == ["one"] and titles(state="opened") == ["both"]
    unencoded_plus = call(gitlab, "GET", f"{PROJECT}/issues?updated_after=2027-01-04T10:30:00+01:00")
    assert unencoded_plus.json() == {"error": "updated_after is invalid"}


# -- rate limits ---------------------------------------------------------------------------------------


def test_a_429_without_any_header(gitlab: FakeGitLab) -> None:
    gitlab.fail_next(429, path="/issues")
    throttled = call(gitlab, "GET", f"{PROJECT}/issues")
    assert throttled.status_code == 429 and "Retry-After" not in throttled.headers
    assert not [name for name in throttled.headers if name.lower().startswith("ratelimit")]
    assert call(gitlab, "GET", f"{PROJECT}/issues").status_code == 200


def test_the_api_throttle_shows_its_headers_and_resets_on_the_clock(make: Callable[..., FakeGitLab]) -> None:
    gitlab = make(rate_limits=True)
    assert gitlab.limits["api"] == (100, 60.0)  # gitlab.com Free
    gitlab.limit("api", 3)
    reset = str(int(clock_of(gitlab)().timestamp()) + 60)
    for observed in (1, 2, 3):
        response = call(gitlab, "GET", PROJECT)
        assert response.status_code == 200
        names = ("RateLimit-Limit", "RateLimit-Observed", "RateLimit-Remaining", "RateLimit-Reset")
        assert [response.headers[name] for name in names] == ["3", str(observed), str(3 - observed), reset]
    clock_of(gitlab).advance(20)
    throttled = call(gitlab, "GET", PROJECT)
    assert (throttled.status_code, throttled.content) == (429, b"")
    assert throttled.headers["Retry-After"] == "40"
    assert throttled.headers["RateLimit-ResetTime"] == "Mon, 04 Jan 2027 09:01:00 GMT"
    clock_of(gitlab).advance(40)
    assert call(gitlab, "GET", PROJECT).headers["RateLimit-Observed"] == "1"


def test_issue_and_note_creation_limits(make: Callable[..., FakeGitLab]) -> None:
    gitlab = make(rate_limits=True)
    gitlab.limit("issue_create", 2)
    new_issue(gitlab)
    new_issue(gitlab)
    throttled = call(gitlab, "POST", f"{PROJECT}/issues", json={"title": "third"})
    assert (throttled.status_code, throttled.json()) == (429, {"message": THROTTLED})
    assert throttled.headers["Retry-After"] == "60" and throttled.headers["RateLimit-Limit"] == "100"
    clock_of(gitlab).advance(60)
    new_issue(gitlab, "third")
    for number in range(60):  # gitlab.com: 60 notes a minute
        assert (
            call(gitlab, "POST", f"{PROJECT}/issues/1/notes", json={"body": f"n{number}"}).status_code == 201
        )
    assert call(gitlab, "POST", f"{PROJECT}/issues/1/notes", json={"body": "one more"}).status_code == 429
    self_managed = make(hosted=False, rate_limits=True)
    assert self_managed.limits == {"note_create": (300, 60.0)}
    assert "RateLimit-Limit" not in call(self_managed, "GET", PROJECT).headers


def test_project_creation_may_wait_a_day(make: Callable[..., FakeGitLab]) -> None:
    gitlab = make(rate_limits=True)
    acme = gitlab.add_group("acme", access=OWNER)
    gitlab.limit("project_create", 1, per=86400)
    assert call(gitlab, "POST", "/projects", json={"path": "a", "namespace_id": acme.id}).status_code == 201
    throttled = call(gitlab, "POST", "/projects", json={"path": "b", "namespace_id": acme.id})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "86400"


# -- a person in the UI ----------------------------------------------------------------------------------


def test_helpers_close_log_time_and_relabel_like_a_person(gitlab: FakeGitLab) -> None:
    new_issue(gitlab, labels="a")
    clock_of(gitlab).advance(minutes=10)
    gitlab.log_time("group/iso20k", 1, 5400, by="alice")
    gitlab.set_labels("group/iso20k", 1, ["b"])
    gitlab.close_issue("group/iso20k", 1, by="alice")
    issue = call(gitlab, "GET", f"{PROJECT}/issues/1").json()
    assert issue["time_stats"]["human_total_time_spent"] == "1h 30m" and issue["labels"] == ["b"]
    assert issue["state"] == "closed" and issue["closed_by"]["username"] == "alice"
    assert issue["closed_at"] == issue["updated_at"] == "2027-01-04T09:10:00.000Z"
    assert [i.iid for i in gitlab.issues("group/iso20k")] == [1]


def test_a_moved_issue_is_closed_with_moved_to_id_and_a_deleted_one_is_gone(gitlab: FakeGitLab) -> None:
    gitlab.add_project("group/archive")
    new_issue(gitlab, description="Keep me")
    gitlab.add_note("group/iso20k", 1, "a comment", author="alice")
    clock_of(gitlab).advance(60)
    moved = gitlab.move_issue("group/iso20k", 1, "group/archive")
    old = call(gitlab, "GET", f"{PROJECT}/issues/1").json()
    assert old["state"] == "closed" and old["moved_to_id"] == moved.id
    new = call(gitlab, "GET", "/projects/group%2Farchive/issues/1").json()
    assert new["description"] == "Keep me" and new["id"] == moved.id
    assert [n.body for n in gitlab.notes_of("group/archive", 1)] == ["a comment", "moved from group/iso20k#1"]

    new_issue(gitlab)
    gitlab.delete_issue("group/iso20k", 2)
    assert call(gitlab, "GET", f"{PROJECT}/issues/2").json() == {"message": "404 Not found"}
    assert new_issue(gitlab)["iid"] == 3  # an iid is not used again
    assert call(gitlab, "GET", f"{PROJECT}/issues/2/notes").status_code == 404

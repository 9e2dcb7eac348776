"""The fake Dataverse and sign-in refuse what the real ones refuse (tests/fakes/dataverse.py), so the
connector's tests mean something."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from .fakes.dataverse import (
    ABANDONED,
    API,
    COMPLETED,
    DEVICE_GRANT,
    FAILED,
    PENDING,
    FakeDataverse,
    loopback_tls,
)

CLIENT, APP, USER = "client-1", "daemon-1", "pm@contoso.example"
TASK = "Microsoft.Dynamics.CRM.msdyn_projecttask"


class Client:
    """Raw HTTPS to the fake, as a signed-in user (or an application)."""

    def __init__(self, fake: FakeDataverse, ca_file: str) -> None:
        self.fake = fake
        self.http = requests.Session()
        self.http.verify, self.http.trust_env = ca_file, False
        self.token = ""

    def sign_in(self, scope: str | None = None, user: str = USER) -> dict[str, Any]:
        base = f"{self.fake.url}/contoso/oauth2/v2.0"
        scope = scope or f"{self.fake.url}/.default"
        flow = self.http.post(f"{base}/devicecode", data={"client_id": CLIENT, "scope": scope}).json()
        token = {"grant_type": DEVICE_GRANT, "client_id": CLIENT, "device_code": flow["device_code"]}
        assert self.http.post(f"{base}/token", data=token).json()["error"] == "authorization_pending"
        self.fake.approve(flow["user_code"], user)
        answers = [self.http.post(f"{base}/token", data=token).json() for _ in range(2)]
        assert answers[0]["error"] == "authorization_pending"  # one poll more, as Entra often answers
        self.token = answers[1]["access_token"]
        return answers[1]

    def app_sign_in(self) -> None:
        form = {"grant_type": "client_credentials", "client_id": APP, "client_secret": "s3cret",
                "scope": f"{self.fake.url}/.default"}  # fmt: skip
        self.token = self.http.post(f"{self.fake.url}/contoso/oauth2/v2.0/token", data=form).json()[
            "access_token"
        ]

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> requests.Response:
        url = path if path.startswith("https://") else f"{self.fake.url}{API}/{path}"
        return self.http.request(
            method, url, json=body, headers={"Authorization": f"Bearer {self.token}", **headers}
        )

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.call(method, path, body)
        assert answer.status_code < 400, answer.text
        return answer.json() if answer.content else None

    def refused(self, method: str, path: str, body: Any = None, status: int = 400) -> str:
        answer = self.call(method, path, body)
        assert answer.status_code == status, answer.text
        return answer.json()["error"]["message"]

    def project(self) -> tuple[str, str]:
        project = self.ok("POST", "msdyn_CreateProjectV1", {"Project": {"msdyn_subject": "P"}})["ProjectId"]
        bucket = self.ok("GET", "msdyn_projectbuckets")["value"][0]["msdyn_projectbucketid"]
        return project, bucket

    def open_set(self, project: str) -> str:
        return self.ok("POST", "msdyn_CreateOperationSetV1", {"ProjectId": project, "Description": "t"})[
            "OperationSetId"
        ]

    def task(self, project: str, bucket: str | None, n: int = 0, **extra: Any) -> dict[str, Any]:
        entity = {
            "@odata.type": TASK,
            "msdyn_subject": f"T{n}",
            "msdyn_project@odata.bind": f"msdyn_projects({project})",
        }
        if bucket:
            entity["msdyn_projectbucket@odata.bind"] = f"msdyn_projectbuckets({bucket})"
        return entity | extra

    def create(self, set_id: str, entities: list[dict[str, Any]]) -> None:
        self.ok("POST", "msdyn_PssCreateV2", {"EntityCollection": entities, "OperationSetId": set_id})

    def status(self, set_id: str) -> int:
        return self.ok("GET", f"msdyn_operationsets({set_id})")["msdyn_status"]


@pytest.fixture
def client() -> Iterator[Client]:
    tls, ca_file = loopback_tls()
    with FakeDataverse(tls=tls) as fake:
        fake.add_app(CLIENT)
        fake.add_app(APP, public=False, secret="s3cret")
        fake.add_user(USER)
        fake.add_user("other@contoso.example")
        connection = Client(fake, ca_file)
        connection.sign_in()
        yield connection


def test_device_code_sign_in_gives_an_id_token_and_a_refresh_token_that_works_once(client):
    answer = client.sign_in()
    assert {"id_token", "client_info", "refresh_token"} <= set(answer) and answer["expires_in"] == 3600
    form = {"grant_type": "refresh_token", "client_id": CLIENT, "refresh_token": answer["refresh_token"],
            "scope": f"{client.fake.url}/.default"}  # fmt: skip
    url = f"{client.fake.url}/contoso/oauth2/v2.0/token"
    assert "access_token" in client.http.post(url, data=form).json()
    assert client.http.post(url, data=form).json()["error"] == "invalid_grant"


def test_tokens_without_a_user_for_another_resource_or_expired_are_refused(client):
    assert client.ok("GET", "msdyn_projects")["value"] == []
    client.app_sign_in()
    assert "application user" in client.refused("GET", "msdyn_projects", status=403)
    client.sign_in(scope="https://other.crm.dynamics.com/.default")
    assert "not for this environment" in client.refused("GET", "msdyn_projects", status=401)
    client.sign_in()
    client.fake.expire_tokens()
    assert "expired" in client.refused("GET", "msdyn_projects", status=401)


def test_an_operation_set_holds_at_most_200_operations_and_a_user_at_most_10_open_sets(client):
    project, bucket = client.project()
    first = client.open_set(project)
    batch = [client.task(project, bucket, n) for n in range(150)]
    client.ok("POST", "msdyn_PssCreateV2", {"EntityCollection": batch, "OperationSetId": first})
    message = client.refused(
        "POST", "msdyn_PssCreateV2", {"EntityCollection": batch[:51], "OperationSetId": first}
    )
    assert "at most 200 operations" in message
    for _ in range(9):
        client.open_set(project)
    message = client.refused("POST", "msdyn_CreateOperationSetV1", {"ProjectId": project, "Description": "t"})
    assert "limit of 10 open OperationSets" in message
    client.sign_in(user="other@contoso.example")  # the limit is per user
    client.open_set(project)


def test_a_task_without_a_bucket_progress_at_create_and_a_dependency_update_are_refused(client):
    project, bucket = client.project()
    set_id = client.open_set(project)
    create = "msdyn_PssCreateV1"
    assert "bucket is required" in client.refused(
        "POST", create, {"Entity": client.task(project, None), "OperationSetId": set_id}
    )
    entity = client.task(project, bucket, msdyn_progress=0.5)
    assert "msdyn_progress can't be set" in client.refused(
        "POST", create, {"Entity": entity, "OperationSetId": set_id}
    )
    dependency = {
        "@odata.type": "Microsoft.Dynamics.CRM.msdyn_projecttaskdependency",
        "msdyn_linktype": 192350000,
    }
    update = {"EntityCollection": [dependency], "OperationSetId": set_id}
    assert "can't be updated" in client.refused("POST", "msdyn_PssUpdateV2", update)


def test_a_set_runs_asynchronously_all_or_nothing_and_is_closed_once_executed_or_abandoned(client):
    project, bucket = client.project()
    set_id = client.open_set(project)
    client.create(set_id, [client.task(project, bucket, n) for n in range(3)])
    client.ok("POST", "msdyn_ExecuteOperationSetV1", {"OperationSetId": set_id})
    assert client.ok("GET", "msdyn_projecttasks")["value"] == []  # not carried out yet
    assert [client.status(set_id) for _ in range(2)] == [PENDING, COMPLETED]
    assert len(client.ok("GET", "msdyn_projecttasks")["value"]) == 3
    body = {"EntityCollection": [client.task(project, bucket)], "OperationSetId": set_id}
    assert "Completed" in client.refused("POST", "msdyn_PssCreateV2", body)
    assert "Completed" in client.refused("POST", "msdyn_ExecuteOperationSetV1", {"OperationSetId": set_id})
    dropped = client.open_set(project)
    client.ok("POST", "msdyn_AbandonOperationSetV1", {"OperationSetId": dropped})
    assert client.status(dropped) == ABANDONED
    assert "Abandoned" in client.refused("POST", "msdyn_ExecuteOperationSetV1", {"OperationSetId": dropped})
    client.fake.fail_sets = 1  # failing on demand: nothing applied
    failing = client.open_set(project)
    client.ok(
        "POST",
        "msdyn_PssCreateV2",
        {"EntityCollection": [client.task(project, bucket, 9)], "OperationSetId": failing},
    )
    client.ok("POST", "msdyn_ExecuteOperationSetV1", {"OperationSetId": failing})
    assert client.status(failing) == PENDING and client.status(failing) == FAILED
    assert len(client.ok("GET", "msdyn_projecttasks")["value"]) == 3


def test_a_set_breaking_a_project_limit_fails_whole(client):
    project, bucket = client.project()
    ids = []
    for chunk in range(6):  # 1,001 tasks in six sets: the last one fails
        set_id = client.open_set(project)
        count = 200 if chunk < 5 else 1
        client.create(set_id, [client.task(project, bucket, n) for n in range(count)])
        client.ok("POST", "msdyn_ExecuteOperationSetV1", {"OperationSetId": set_id})
        while (status := client.status(set_id)) == PENDING:
            pass
        ids.append(status)
    assert ids == [COMPLETED] * 5 + [FAILED]
    answer = client.call(
        "GET", "msdyn_projecttasks?$select=msdyn_projecttaskid", Prefer="odata.maxpagesize=400"
    )
    first = answer.json()
    assert len(first["value"]) == 400 and "$skiptoken" in first["@odata.nextLink"]
    seen = [row["msdyn_projecttaskid"] for row in first["value"]]
    link = first["@odata.nextLink"]
    while link:
        page = client.ok("GET", link)
        seen += [row["msdyn_projecttaskid"] for row in page["value"]]
        link = page.get("@odata.nextLink")
    assert len(seen) == len(set(seen)) == 1000


def test_answers_come_in_no_particular_order_and_unknown_filters_and_fields_are_refused(client):
    project, bucket = client.project()
    set_id = client.open_set(project)
    names = [f"T{n}" for n in range(20)]
    client.create(set_id, [client.task(project, bucket, n) for n in range(20)])
    client.ok("POST", "msdyn_ExecuteOperationSetV1", {"OperationSetId": set_id})
    client.status(set_id), client.status(set_id)
    listed = [row["msdyn_subject"] for row in client.ok("GET", "msdyn_projecttasks")["value"]]
    assert sorted(listed) == sorted(names) and listed != names
    assert "$filter clause" in client.refused(
        "GET", "msdyn_projecttasks?$filter=startswith(msdyn_subject,'T')"
    )
    assert "Could not find a property" in client.refused("GET", "msdyn_projecttasks?$select=msdyn_cost")


def test_429_comes_with_and_without_retry_after_in_dataverse_words(client):
    client.fake.fail_next(429, retry_after=2, path=API)
    client.fake.fail_next(429, path=API)
    first, second = client.call("GET", "msdyn_projects"), client.call("GET", "msdyn_projects")
    assert (first.status_code, first.headers.get("Retry-After")) == (429, "2")
    assert (second.status_code, second.headers.get("Retry-After")) == (429, None)
    assert "Number of requests exceeded the limit" in second.json()["error"]["message"]


def test_a_team_member_is_made_at_once_once_and_an_assignment_needs_its_task_and_member(client):
    project, bucket = client.project()
    member = {"@odata.type": "Microsoft.Dynamics.CRM.msdyn_projectteam", "msdyn_name": "Consultant",
              "msdyn_projectteamid": "11111111-1111-1111-1111-111111111111",
              "msdyn_project@odata.bind": f"msdyn_projects({project})"}  # fmt: skip
    made = client.ok("POST", "msdyn_CreateTeamMemberV1", {"TeamMember": member})["TeamMemberId"]
    assert client.ok("GET", "msdyn_projectteams")["value"][0]["msdyn_name"] == "Consultant"
    assert "already exists" in client.refused("POST", "msdyn_CreateTeamMemberV1", {"TeamMember": member})

    def assignment(task: str, member: str) -> dict[str, Any]:
        return {"@odata.type": "Microsoft.Dynamics.CRM.msdyn_resourceassignment", "msdyn_name": "A",
                "msdyn_projectid@odata.bind": f"msdyn_projects({project})",
                "msdyn_taskid@odata.bind": f"msdyn_projecttasks({task})",
                "msdyn_projectteamid@odata.bind": f"msdyn_projectteams({member})"}  # fmt: skip

    task = "22222222-2222-2222-2222-222222222222"
    half = dict(assignment(task, made))
    del half["msdyn_projectteamid@odata.bind"]
    set_id = client.open_set(project)
    assert "msdyn_projectteamid" in client.refused(
        "POST", "msdyn_PssCreateV2", {"EntityCollection": [half], "OperationSetId": set_id}
    )
    client.create(set_id, [client.task(project, bucket, msdyn_projecttaskid=task), assignment(task, made)])
    client.ok("POST", "msdyn_ExecuteOperationSetV1", {"OperationSetId": set_id})
    while client.status(set_id) == PENDING:
        pass
    assert client.status(set_id) == COMPLETED and len(client.fake.assignments) == 1
    stranger = client.open_set(project)  # a member of no project: the whole set fails
    client.create(stranger, [assignment(task, "33333333-3333-3333-3333-333333333333")])
    client.ok("POST", "msdyn_ExecuteOperationSetV1", {"OperationSetId": stranger})
    while (status := client.status(stranger)) == PENDING:
        pass
    assert status == FAILED and len(client.fake.assignments) == 1

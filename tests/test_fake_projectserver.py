"""The fake Project Server refuses what Project Server SE refuses: Windows sign-in per connection, writes
without a form digest, draft writes without the check-out, duplicate GUIDs, bodies and saves over 2 MB,
stale PATCHes; and it keeps the draft apart from what is published, with queue jobs that can fail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from tests.fakes.kit import ManualClock
from tests.fakes.projectserver import FakeProjectServer

ACCEPT = {"Accept": "application/json;odata=nometadata"}


class Client:
    """A PWA user over NTLM, with a form digest for writes."""

    def __init__(self, fake: FakeProjectServer, user: str | None = None, password: str | None = None) -> None:
        self.fake = fake
        self.session = requests.Session()
        self.session.auth = HttpNtlmAuth(user or fake.username, password or fake.password)
        self.digest = ""

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.fake.site}/_api{path}", params=params, headers=ACCEPT)

    def post(self, path: str, body: Any = None, digest: bool = True, **headers: str) -> requests.Response:
        if digest and not self.digest:
            self.digest = self.session.post(f"{self.fake.site}/_api/contextinfo", headers=ACCEPT).json()[
                "FormDigestValue"
            ]
        sent = {**ACCEPT, **headers} | ({"X-RequestDigest": self.digest} if digest else {})
        return self.session.post(f"{self.fake.site}/_api{path}", json=body, headers=sent)

    def patch(self, path: str, body: Any, **headers: str) -> requests.Response:
        sent = {**ACCEPT, **headers, "X-RequestDigest": self.digest}
        return self.session.patch(f"{self.fake.site}/_api{path}", json=body, headers=sent)

    def wait(self, pid: str, job: dict[str, Any]) -> int:
        state = job["JobState"]
        for _ in range(20):
            if state not in (1, 3):
                return state
            state = self.get(f"/ProjectServer/Projects('{pid}')/QueueJobs('{job['Id']}')").json()["JobState"]
        return state


def message(response: requests.Response) -> str:
    return response.json()["odata.error"]["message"]["value"]


@pytest.fixture
def fake() -> Iterator[FakeProjectServer]:
    with FakeProjectServer(page_size=2) as server:
        yield server


@pytest.fixture
def me(fake) -> Client:
    return Client(fake)


def checked_out(me: Client) -> str:
    pid = str(uuid.uuid4())
    assert me.post("/ProjectServer/Projects/Add", {"parameters": {"Id": pid, "Name": "P"}}).status_code == 200
    assert me.post(f"/ProjectServer/Projects('{pid}')/checkOut").status_code == 200
    return pid


def add_task(
    me: Client, pid: str, name: str = "T", tid: str | None = None, **extra: Any
) -> requests.Response:
    fields = {"Id": tid or str(uuid.uuid4()), "Name": name, "Start": "2027-01-04T08:00:00", "Duration": "2d"}
    return me.post(f"/ProjectServer/Projects('{pid}')/Draft/Tasks/Add", {"parameters": fields | extra})


def test_every_connection_signs_in_with_ntlm_once_and_a_wrong_password_is_refused(fake, me):
    bare = requests.get(f"{fake.site}/_api/web/currentuser", headers=ACCEPT)
    assert bare.status_code == 401 and bare.headers["WWW-Authenticate"] == "NTLM"
    for _ in range(3):
        assert me.get("/web/currentuser").json()["LoginName"] == "i:0#.w|acme\\svc"
    assert fake.handshakes == 1  # the connection stays signed in
    assert Client(fake, password="wrong").get("/web/currentuser").status_code == 401
    assert len(fake.requests) == 3  # the handshake's legs are not recorded


def test_writes_need_a_live_form_digest(fake, me):
    clock = ManualClock()
    fake.clock = clock
    refused = me.post("/ProjectServer/Projects/Add", {"parameters": {"Name": "P"}}, digest=False)
    assert refused.status_code == 403 and "security validation" in message(refused)
    assert me.post("/ProjectServer/Projects/Add", {"parameters": {"Name": "P"}}).status_code == 200
    clock.advance(fake.digest_lifetime + 1)
    assert me.post("/ProjectServer/Projects/Add", {"parameters": {"Name": "Q"}}).status_code == 403


def test_the_draft_is_apart_from_the_published_project_until_a_publish_job_succeeds(fake, me):
    pid = checked_out(me)
    assert add_task(me, pid).status_code == 200
    published = f"/ProjectServer/Projects('{pid}')/Tasks"
    assert me.get(published).json()["value"] == []
    other = Client(fake, *_pm(fake))
    assert other.get(f"/ProjectServer/Projects('{pid}')/Draft/Tasks").json()["value"] == []  # unsaved
    fake.fail_next_job(5, "publish")
    job = me.post(f"/ProjectServer/Projects('{pid}')/Draft/publish(true)").json()
    assert me.wait(pid, job) == 5 and me.get(published).json()["value"] == []
    assert fake.projects[pid].checked_out_by == "acme\\svc"
    job = me.post(f"/ProjectServer/Projects('{pid}')/Draft/publish(true)").json()
    assert me.wait(pid, job) == 4 and len(me.get(published).json()["value"]) == 1
    assert fake.projects[pid].checked_out_by is None


def _pm(fake: FakeProjectServer) -> tuple[str, str]:
    if "acme\\pm" not in fake.users:
        fake.add_user("ACME\\pm", "Pm-pa55word", "Pat Manager")
    return "ACME\\pm", "Pm-pa55word"


def test_a_check_out_held_by_another_refuses_check_out_and_draft_writes(fake, me):
    pid = checked_out(me)
    other = Client(fake, *_pm(fake))
    refused = other.post(f"/ProjectServer/Projects('{pid}')/checkOut")
    assert refused.status_code == 400 and "CICOCheckedOutToOtherUser" in message(refused)
    assert add_task(other, pid).status_code == 400
    row = other.get(f"/ProjectServer/Projects('{pid}')", **{"$select": "IsCheckedOut,CheckedOutBy/Title",
                                                           "$expand": "CheckedOutBy"}).json()  # fmt: skip
    assert row == {"IsCheckedOut": True, "CheckedOutBy": {"Title": "Sync Service"}}


def test_a_guid_is_taken_once_and_names_parents_and_link_ends_are_checked(me):
    pid = checked_out(me)
    tid = str(uuid.uuid4())
    assert add_task(me, pid, tid=tid).status_code == 200
    again = add_task(me, pid, tid=tid)
    assert again.status_code == 400 and "already exists" in message(again)
    assert add_task(me, pid, name="x" * 256).status_code == 400
    assert add_task(me, pid, name="two\nlines").status_code == 400
    assert add_task(me, pid, ParentId=str(uuid.uuid4())).status_code == 400
    link = {"Id": str(uuid.uuid4()), "StartId": tid, "EndId": str(uuid.uuid4()), "DependencyType": 1}
    assert (
        me.post(f"/ProjectServer/Projects('{pid}')/Draft/TaskLinks/Add", {"parameters": link}).status_code
        == 400
    )
    resource = {"Id": str(uuid.uuid4()), "Name": "PM, lead"}
    assert me.post(f"/ProjectServer/Projects('{pid}')/Draft/ProjectResources/Add",
                   {"parameters": resource}).status_code == 400  # fmt: skip


def test_bodies_and_saves_over_2_mb_are_refused(fake, me):
    pid = checked_out(me)
    assert add_task(me, pid, Notes="n" * (2 * 1024 * 1024)).status_code == 413
    for _ in range(3):
        assert add_task(me, pid, Notes="n" * 800_000).status_code == 200
    refused = me.post(f"/ProjectServer/Projects('{pid}')/Draft/update()")
    assert refused.status_code == 400 and "too big" in message(refused)


def test_queue_jobs_move_on_fail_on_demand_and_a_stalled_one_never_ends(fake, me):
    fake.job_steps = 2
    pid = checked_out(me)
    add_task(me, pid)
    job = me.post(f"/ProjectServer/Projects('{pid}')/Draft/update()").json()
    path = f"/ProjectServer/Projects('{pid}')/QueueJobs('{job['Id']}')"
    assert [me.get(path).json()["JobState"] for _ in range(4)] == [3, 3, 4, 4]
    fake.job_steps = 0
    for state in (6, 8):
        fake.fail_next_job(state)
        assert me.wait(pid, me.post(f"/ProjectServer/Projects('{pid}')/Draft/update()").json()) == state
    fake.stall_next_job()
    assert me.wait(pid, me.post(f"/ProjectServer/Projects('{pid}')/Draft/update()").json()) == 3


def test_a_check_in_without_saving_loses_the_unsaved_changes(fake, me):
    pid = checked_out(me)
    add_task(me, pid, name="saved")
    assert me.wait(pid, me.post(f"/ProjectServer/Projects('{pid}')/Draft/update()").json()) == 4
    add_task(me, pid, name="unsaved")
    assert me.wait(pid, me.post(f"/ProjectServer/Projects('{pid}')/Draft/checkIn(false)").json()) == 4
    names = [t["Name"] for t in me.get(f"/ProjectServer/Projects('{pid}')/Draft/Tasks").json()["value"]]
    assert names == ["saved"]


def test_a_stale_patch_answers_412(fake, me):
    pid = checked_out(me)
    tid = add_task(me, pid).json()["Id"]
    path = f"/ProjectServer/Projects('{pid}')/Draft/Tasks('{tid}')"
    assert me.patch(path, {"Name": "a"}, **{"If-Match": '"9"'}).status_code == 412
    fake.stale_next_patch()
    assert me.patch(path, {"Name": "a"}).status_code == 412
    assert me.patch(path, {"Name": "a"}).status_code == 204
    assert me.patch(path, {"Nmae": "a"}).status_code == 400


def test_collections_page_and_come_in_no_particular_order(fake, me):
    pid = checked_out(me)
    names = [f"t{n}" for n in range(5)]
    for name in names:
        add_task(me, pid, name=name, tid=str(uuid.uuid5(uuid.NAMESPACE_URL, name)))
    seen, url = [], f"{fake.site}/_api/ProjectServer/Projects('{pid}')/Draft/Tasks?$select=Name"
    while url:
        page = me.session.get(url, headers=ACCEPT).json()
        assert len(page["value"]) <= 2
        seen += [t["Name"] for t in page["value"]]
        url = page.get("odata.nextLink")
    assert sorted(seen) == names and seen != names

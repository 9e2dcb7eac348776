"""GitLab REST v4 calls the connector needs, each one request (or one per page), through the shared
HttpClient. Only the subset in the project's GitLab API notes is used (the fake serves exactly that)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from ..http import HttpClient
from ..http.paging import link_pages

PAGE = 100


def ref(project: str | int) -> str:
    """A project or group in a path: its id, or its full path URL-encoded (``group%2Fiso20k``)."""
    return quote(str(project), safe="")


class GitLabApi:
    def __init__(self, http: HttpClient) -> None:
        self.http = http

    # --- who, where, which tier -----------------------------------------------------------------------

    def token(self) -> dict[str, Any]:
        return self.http.get("/api/v4/personal_access_tokens/self")

    def version(self) -> dict[str, Any]:
        return self.http.get("/api/v4/version")

    def project(self, project: str | int) -> dict[str, Any]:
        return self.http.get(f"/api/v4/projects/{ref(project)}")

    def namespace(self, namespace: str | int) -> dict[str, Any]:
        """A namespace; its ``plan`` shows to its Maintainers and Owners on Enterprise Edition only."""
        return self.http.get(f"/api/v4/namespaces/{ref(namespace)}")

    def group(self, group: str | int) -> dict[str, Any]:
        return self.http.get(f"/api/v4/groups/{ref(group)}")

    def group_member(self, group: str | int, user_id: int) -> dict[str, Any]:
        return self.http.get(f"/api/v4/groups/{ref(group)}/members/all/{user_id}")

    def create_project(self, name: str, path: str, namespace_id: int) -> dict[str, Any]:
        return self.http.post("/api/v4/projects", {"name": name, "path": path, "namespace_id": namespace_id})

    # --- milestones -----------------------------------------------------------------------------------

    def milestones(self, project: str | int) -> Iterator[dict[str, Any]]:
        return link_pages(self.http, f"/api/v4/projects/{ref(project)}/milestones", {"per_page": PAGE})

    def create_milestone(self, project: str | int, fields: dict[str, Any]) -> dict[str, Any]:
        return self.http.post(f"/api/v4/projects/{ref(project)}/milestones", fields)

    def update_milestone(self, project: str | int, milestone: int, fields: dict[str, Any]) -> None:
        self.http.put(f"/api/v4/projects/{ref(project)}/milestones/{milestone}", fields)

    # --- issues ---------------------------------------------------------------------------------------

    def issues(
        self, project: str | int, label: str, updated_after: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every issue carrying ``label``, open or closed, 100 a page, oldest first, in keyset pagination
        (no 50,000 offset cap; GitLab before 18.3 ignores it and pages by offset, also through the Link
        header); ``updated_after`` (ISO 8601) for an incremental pull."""
        params = {
            "labels": label,
            "state": "all",
            "per_page": PAGE,
            "order_by": "created_at",
            "sort": "asc",
            "pagination": "keyset",
        }
        if updated_after:
            params["updated_after"] = updated_after
        return link_pages(self.http, f"/api/v4/projects/{ref(project)}/issues", params)

    def issue(self, project: str | int, iid: str) -> dict[str, Any]:
        return self.http.get(f"/api/v4/projects/{ref(project)}/issues/{iid}")

    def create_issue(self, project: str | int, fields: dict[str, Any]) -> dict[str, Any]:
        return self.http.post(f"/api/v4/projects/{ref(project)}/issues", fields)

    def update_issue(self, project: str | int, iid: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.http.put(f"/api/v4/projects/{ref(project)}/issues/{iid}", fields)

    def link(self, project: str | int, iid: str, target_project: int, target_iid: str, kind: str) -> None:
        body = {"target_project_id": target_project, "target_issue_iid": target_iid, "link_type": kind}
        self.http.post(f"/api/v4/projects/{ref(project)}/issues/{iid}/links", body)

    # --- notes ----------------------------------------------------------------------------------------

    def notes(self, project: str | int, iid: str) -> Iterator[dict[str, Any]]:
        params = {"per_page": PAGE, "sort": "asc", "order_by": "created_at"}
        return link_pages(self.http, f"/api/v4/projects/{ref(project)}/issues/{iid}/notes", params)

    def add_note(self, project: str | int, iid: str, body: str) -> dict[str, Any]:
        return self.http.post(f"/api/v4/projects/{ref(project)}/issues/{iid}/notes", {"body": body})

    def update_note(self, project: str | int, iid: str, note: str, body: str) -> None:
        self.http.put(f"/api/v4/projects/{ref(project)}/issues/{iid}/notes/{note}", {"body": body})

"""Jira REST calls the connector needs, each one request (or one per page), through the shared HttpClient.

Cloud and Data Center differ where it matters: Cloud searches with /rest/api/3/search/jql (token pages,
no total, eventually consistent, ``reconcileIssues`` for read-after-write) because /rest/api/2/search was
removed (410); Data Center searches with /rest/api/2/search (``startAt`` and ``total``). Creating, linking
and versions use /rest/api/2 on both (plain-text descriptions; v3 would want Atlassian Document Format).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..http import HttpClient, HttpError

RECONCILE_LIMIT = 50


class JiraApi:
    def __init__(self, http: HttpClient, cloud: bool, page_size: int = 100) -> None:
        self.http = http
        self.cloud = cloud
        self.page_size = page_size

    def project(self, key: str) -> dict[str, Any]:
        return self.http.get(f"/rest/api/2/project/{key}")

    def permissions(self, project: str, wanted: Sequence[str]) -> dict[str, bool]:
        answer = self.http.get(
            "/rest/api/2/mypermissions", {"projectKey": project, "permissions": ",".join(wanted)}
        )
        granted = answer.get("permissions", {})
        return {name: bool(granted.get(name, {}).get("havePermission")) for name in wanted}

    def fields(self) -> list[dict[str, Any]]:
        return self.http.get("/rest/api/2/field")

    def link_types(self) -> list[dict[str, Any]]:
        return self.http.get("/rest/api/2/issueLinkType").get("issueLinkTypes", [])

    def versions(self, project: str) -> list[dict[str, Any]]:
        return self.http.get(f"/rest/api/2/project/{project}/versions")

    def create_version(
        self, project_id: str, name: str, description: str, release_date: str
    ) -> dict[str, Any]:
        body = {
            "projectId": project_id,
            "name": name,
            "description": description,
            "releaseDate": release_date,
        }
        return self.http.post("/rest/api/2/version", body)

    def bulk_create(self, issues: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """POST issue/bulk; a 400 where every element failed still carries the per-element errors."""
        try:
            return self.http.post("/rest/api/2/issue/bulk", {"issueUpdates": [{"fields": f} for f in issues]})
        except HttpError as exc:
            if exc.status == 400 and isinstance(exc.details, dict) and "errors" in exc.details:
                return exc.details
            raise

    def link(self, link_type: str, blocker: str, blocked: str) -> None:
        # In this POST, inwardIssue is the issue that "blocks" and outwardIssue the one that "is blocked by"
        # (the reverse of how links read back on an issue; verified against Jira Cloud).
        body = {"type": {"name": link_type}, "inwardIssue": {"id": blocker}, "outwardIssue": {"id": blocked}}
        self.http.post("/rest/api/2/issueLink", body)

    def comments(self, issue: str) -> list[dict[str, Any]]:
        return self.http.get(f"/rest/api/2/issue/{issue}/comment", {"maxResults": 100}).get("comments", [])

    def add_comment(self, issue: str, body: str) -> None:
        self.http.post(f"/rest/api/2/issue/{issue}/comment", {"body": body})

    def update_comment(self, issue: str, comment_id: str, body: str) -> None:
        self.http.put(f"/rest/api/2/issue/{issue}/comment/{comment_id}", {"body": body})

    def update_fields(self, issue: str, fields: dict[str, Any]) -> None:
        self.http.put(f"/rest/api/2/issue/{issue}", {"fields": fields})

    def search(
        self, jql: str, fields: Sequence[str], reconcile: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """Every issue matching ``jql`` with ``fields``, page by page."""
        if self.cloud:
            yield from self._search_cloud(jql, fields, reconcile)
        else:
            yield from self._search_datacenter(jql, fields)

    def _search_cloud(
        self, jql: str, fields: Sequence[str], reconcile: Sequence[str]
    ) -> Iterator[dict[str, Any]]:
        body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": self.page_size}
        if reconcile:
            body["reconcileIssues"] = [int(i) for i in list(reconcile)[-RECONCILE_LIMIT:]]
        while True:
            page = self.http.post("/rest/api/3/search/jql", body)
            yield from page.get("issues", [])
            token = page.get("nextPageToken")
            if page.get("isLast", token is None) or not token:
                return
            body["nextPageToken"] = token

    def _search_datacenter(self, jql: str, fields: Sequence[str]) -> Iterator[dict[str, Any]]:
        start = 0
        while True:
            body = {"jql": jql, "fields": list(fields), "startAt": start, "maxResults": self.page_size}
            page = self.http.post("/rest/api/2/search", body)
            issues = page.get("issues", [])
            yield from issues
            start += len(issues)
            if not issues or start >= page.get("total", 0):
                return

"""Jira REST calls the connector needs, each one request (or one per page), through the shared HttpClient.

Cloud and Data Center differ where it matters: Cloud searches with /rest/api/3/search/jql (token pages,
no total, eventually consistent, ``reconcileIssues`` for read-after-write) because /rest/api/2/search was
removed (410); Data Center searches with /rest/api/2/search (``startAt`` and ``total``). Creating, linking,
comments and versions use /rest/api/2 on both (wiki text; Cloud stores it as Atlassian Document Format and
renders it back, not always to the same characters).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..http import HttpClient, HttpError
from ..http.paging import offset_pages, token_pages

RECONCILE_LIMIT = 50
COMMENT_PAGE = 100


class JiraApi:
    def __init__(self, http: HttpClient, cloud: bool, page_size: int = 100) -> None:
        self.http = http
        self.cloud = cloud
        self.page_size = page_size

    # --- project and metadata -------------------------------------------------------------------------

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

    def create_screen(self, project: str, issue_type_id: str) -> set[str]:
        """Ids of the fields on the create screen of one issue type (Cloud answers ``fields``, Data
        Center ``values``; both paged by ``startAt``)."""
        path = f"/rest/api/2/issue/createmeta/{project}/issuetypes/{issue_type_id}"
        ids: set[str] = set()
        start = 0
        while True:
            page = self.http.get(path, {"startAt": start, "maxResults": 200}) or {}
            found = page.get("fields", page.get("values", []))
            ids |= {str(f.get("fieldId") or f.get("key")) for f in found}
            start += len(found)
            if not found or page.get("isLast", start >= page.get("total", 0)):
                return ids

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

    # --- issues ---------------------------------------------------------------------------------------

    def bulk_create(self, issues: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """POST issue/bulk; a 400 where every element failed still carries the per-element errors (a
        list), while a 400 about the request itself (``errors`` an object) is raised with Jira's words."""
        try:
            return self.http.post("/rest/api/2/issue/bulk", {"issueUpdates": [{"fields": f} for f in issues]})
        except HttpError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            if exc.status == 400 and isinstance(details.get("errors"), list):
                return details
            raise

    def update_fields(self, issue: str, fields: dict[str, Any]) -> None:
        self.http.put(f"/rest/api/2/issue/{issue}", {"fields": fields})

    def link(self, link_type: str, blocker: str, blocked: str) -> None:
        # In this POST, inwardIssue is the issue that "blocks" and outwardIssue the one that "is blocked by"
        # (the reverse of how links read back on an issue; verified against Jira Cloud).
        body = {"type": {"name": link_type}, "inwardIssue": {"id": blocker}, "outwardIssue": {"id": blocked}}
        self.http.post("/rest/api/2/issueLink", body)

    # --- comments -------------------------------------------------------------------------------------

    def comments(self, issue: str) -> Iterator[dict[str, Any]]:
        """Every comment of an issue, page by page (Jira answers at most 100 a page on Cloud)."""
        return offset_pages(
            self.http, f"/rest/api/2/issue/{issue}/comment", "comments", params={"maxResults": COMMENT_PAGE}
        )

    def add_comment(self, issue: str, body: str) -> dict[str, Any]:
        return self.http.post(f"/rest/api/2/issue/{issue}/comment", {"body": body})

    def update_comment(self, issue: str, comment_id: str, body: str) -> None:
        self.http.put(f"/rest/api/2/issue/{issue}/comment/{comment_id}", {"body": body})

    # --- search ---------------------------------------------------------------------------------------

    def search(
        self, jql: str, fields: Sequence[str], reconcile: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """Every issue matching ``jql`` with ``fields``, page by page. ``reconcile``: ids whose latest
        state Cloud must show although its search index may lag (the last 50 are sent)."""
        if self.cloud:
            body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": self.page_size}
            if reconcile:
                body["reconcileIssues"] = [int(i) for i in list(reconcile)[-RECONCILE_LIMIT:]]
            return token_pages(self.http, "/rest/api/3/search/jql", body, "issues")
        body = {"jql": jql, "fields": list(fields), "maxResults": self.page_size}
        return offset_pages(self.http, "/rest/api/2/search", "issues", body=body)

"""Project Server's /_api calls the connector needs, each one request (or one per page), JSON with
``odata=nometadata`` (SharePoint SE answers it; no ``d`` wrappers, collections in ``value``, the next page
in ``odata.nextLink``).

SharePoint refuses a write (POST, PATCH) made with Windows authentication unless it carries a form digest
(``X-RequestDigest``) from ``POST /_api/contextinfo``; Project Server SE runs on SharePoint SE, so every
write here carries one, fetched once and again when it expires or is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from ..http import HttpClient, HttpError
from ..http.paging import odata_pages

ACCEPT = "application/json;odata=nometadata"
PS = "/_api/ProjectServer"
STALE_DIGEST = "security validation"
"""Words of SharePoint's 403 for a missing or expired form digest."""
TASK_FIELDS = "Id,Name,Notes,IsMilestone,IsSummary,Start,Finish"
PROGRESS_FIELDS = "Id,PercentComplete,ActualCost,Cost,ActualWork,Finish,ActualStart,ActualFinish,Modified"


def body_size(body: Any) -> int:
    """Bytes of a JSON body as requests sends it (``json.dumps`` defaults, ASCII-escaped)."""
    return 0 if body is None else len(json.dumps(body, allow_nan=False).encode())


class PwaSend:
    """The requests call every request goes through: the OData Accept header, and the form digest on
    writes (``digest`` is set by :class:`ProjectServerApi`)."""

    def __init__(self, send: Callable[..., requests.Response]) -> None:
        self._send = send
        self.digest: str | None = None

    def __call__(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Accept"] = ACCEPT
        if method != "GET" and self.digest and not url.endswith("/_api/contextinfo"):
            headers["X-RequestDigest"] = self.digest
        return self._send(method, url, headers=headers, **kwargs)


def guid(value: str) -> str:
    return f"guid'{value}'"


class ProjectServerApi:
    def __init__(self, http: HttpClient, send: PwaSend, clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self._send = send
        self._clock = clock
        self._digest_until = 0.0

    # --- plumbing -------------------------------------------------------------------------------------

    def _json(self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        """One request; an error (``odata.error``) reaches the caller in the server's own words."""
        return self.http.json(method, path, params=params, body=body)

    def write(self, method: str, path: str, body: Any = None) -> Any:
        """A write with a fresh form digest; a digest refused as stale is fetched again once."""
        if self._clock() >= self._digest_until:
            self.refresh_digest()
        try:
            return self._json(method, path, body=body)
        except HttpError as exc:
            if exc.status != 403 or STALE_DIGEST not in exc.message.lower():
                raise
        self.refresh_digest()
        return self._json(method, path, body=body)

    def refresh_digest(self) -> None:
        self._send.digest = None
        info = self._json("POST", "/_api/contextinfo") or {}
        self._send.digest = str(info.get("FormDigestValue") or "")
        lifetime = float(info.get("FormDigestTimeoutSeconds") or 1800)
        self._digest_until = self._clock() + max(lifetime - 60, lifetime / 2)

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        return odata_pages(self.http, path, params)

    # --- site and project -----------------------------------------------------------------------------

    def current_user(self) -> dict[str, Any]:
        return self._json("GET", "/_api/web/currentuser", {"$select": "LoginName,Title"}) or {}

    def project(self, pid: str) -> dict[str, Any]:
        params = {
            "$select": "Id,Name,IsCheckedOut,CheckedOutDate,CheckedOutBy/LoginName,CheckedOutBy/Title",
            "$expand": "CheckedOutBy",
        }
        return self._json("GET", f"{PS}/Projects('{pid}')", params) or {}

    def projects_named(self, name: str) -> list[dict[str, Any]]:
        quoted = name.replace("'", "''")
        return list(self.pages(f"{PS}/Projects", {"$filter": f"Name eq '{quoted}'", "$select": "Id,Name"}))

    def add_project(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self.write("POST", f"{PS}/Projects/Add", {"parameters": fields}) or {}

    def check_out(self, pid: str) -> None:
        self.write("POST", f"{PS}/Projects('{pid}')/checkOut")

    def update(self, pid: str) -> dict[str, Any]:
        return self.write("POST", f"{PS}/Projects('{pid}')/Draft/update()") or {}

    def publish(self, pid: str) -> dict[str, Any]:
        """Publish the draft and check it in (``publish(true)``)."""
        return self.write("POST", f"{PS}/Projects('{pid}')/Draft/publish(true)") or {}

    def check_in(self, pid: str) -> dict[str, Any]:
        """Check in without forcing (a check-out by someone else is theirs to end)."""
        return self.write("POST", f"{PS}/Projects('{pid}')/Draft/checkIn(false)") or {}

    def job(self, pid: str, jid: str) -> dict[str, Any]:
        path = f"{PS}/Projects('{pid}')/QueueJobs('{jid}')"
        return self._json("GET", path, {"$select": "Id,JobState,PercentComplete"}) or {}

    # --- the draft ------------------------------------------------------------------------------------

    def draft(
        self, pid: str, collection: str, select: str, expand: str | None = None
    ) -> Iterator[dict[str, Any]]:
        params = {"$select": select} | ({"$expand": expand} if expand else {})
        return self.pages(f"{PS}/Projects('{pid}')/Draft/{collection}", params)

    def draft_task(self, pid: str, tid: str) -> dict[str, Any]:
        return (
            self._json("GET", f"{PS}/Projects('{pid}')/Draft/Tasks('{tid}')", {"$select": TASK_FIELDS}) or {}
        )

    # --- the published project ------------------------------------------------------------------------

    def published_tasks(self, pid: str) -> Iterator[dict[str, Any]]:
        return self.pages(f"{PS}/Projects('{pid}')/Tasks", {"$select": PROGRESS_FIELDS})

"""The Dataverse Web API calls the connector makes, one request (or one per page) each: the Project
schedule API's actions (msdyn_CreateProjectV1, operation sets, msdyn_Pss*V2) and OData reads."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..http import HttpClient, HttpError
from ..http.paging import odata_pages

BASE = "/api/data/v9.2"
PAGE_SIZE = 500
"""Rows a page (``Prefer: odata.maxpagesize``); Dataverse's own default is 5,000."""
OPEN, EXECUTING, COMPLETED = 192350000, 192350001, 192350003
"""msdyn_operationset.msdyn_status values this connector relies on: Open (operations can be added),
Executing (Pending: Dataverse is carrying it out) and Completed. Public sources disagree on which of
192350002 and 192350004 is Failed and which Abandoned, so any other value is read as "settled without
being carried out" and never told apart."""
UNSETTLED = frozenset({OPEN, EXECUTING})


def quoted(text: str) -> str:
    """A string literal in an OData $filter."""
    return "'" + text.replace("'", "''") + "'"


class DataverseApi:
    """Dataverse's errors (``{"error": {"code", "message"}}``) reach callers in its own words through the
    shared client."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def _json(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        return self.http.json(method, path, params=params, body=body)

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """An OData collection, following ``@odata.nextLink``."""
        return odata_pages(self.http, path, params)

    # --- the project ----------------------------------------------------------------------------------

    def projects(self, marker: str) -> list[dict[str, Any]]:
        params = {
            "$select": "msdyn_projectid,msdyn_subject,msdyn_description",
            "$filter": f"contains(msdyn_description,{quoted(marker)})",
        }
        return list(self._pages(f"{BASE}/msdyn_projects", params))

    def create_project(self, subject: str, description: str, start: str, finish: str) -> str:
        entity = {
            "@odata.type": "Microsoft.Dynamics.CRM.msdyn_project",
            "msdyn_subject": subject,
            "msdyn_description": description,
            "msdyn_scheduledstart": start,
            "msdyn_finish": finish,
        }
        return str(self._json("POST", f"{BASE}/msdyn_CreateProjectV1", body={"Project": entity})["ProjectId"])

    def team_members(self, project: str) -> list[dict[str, Any]]:
        params = {
            "$select": "msdyn_projectteamid,msdyn_name",
            "$filter": f"_msdyn_project_value eq {project}",
        }
        return list(self._pages(f"{BASE}/msdyn_projectteams", params))

    def create_team_member(self, entity: dict[str, Any]) -> str:
        """A team member, made at once (not through an operation set)."""
        answer = self._json("POST", f"{BASE}/msdyn_CreateTeamMemberV1", body={"TeamMember": entity})
        return str(answer["TeamMemberId"])

    def buckets(self, project: str) -> list[dict[str, Any]]:
        params = {
            "$select": "msdyn_projectbucketid,msdyn_name",
            "$filter": f"_msdyn_project_value eq {project}",
        }
        return list(self._pages(f"{BASE}/msdyn_projectbuckets", params))

    # --- reads ----------------------------------------------------------------------------------------

    def tasks(self, project: str, fields: str, modified_since: str | None = None) -> Iterator[dict[str, Any]]:
        query = f"_msdyn_project_value eq {project}"
        if modified_since:
            query += f" and modifiedon ge {modified_since}"
        params = {"$select": fields, "$filter": query}
        return self._pages(f"{BASE}/msdyn_projecttasks", params)

    def dependencies(self, project: str) -> Iterator[dict[str, Any]]:
        params = {
            "$select": "msdyn_projecttaskdependencyid,_msdyn_predecessortask_value,"
            "_msdyn_successortask_value,msdyn_linktype",
            "$filter": f"_msdyn_project_value eq {project}",
        }
        return self._pages(f"{BASE}/msdyn_projecttaskdependencies", params)

    # --- operation sets -------------------------------------------------------------------------------

    def operation_sets(self, project: str, description: str) -> list[dict[str, Any]]:
        """Our sets on the project that are not settled (open, pending or processing)."""
        params = {
            "$select": "msdyn_operationsetid,msdyn_status,msdyn_description,createdon",
            "$filter": f"_msdyn_project_value eq {project} and msdyn_description eq {quoted(description)} "
            f"and (msdyn_status eq {OPEN} or msdyn_status eq {EXECUTING})",
        }
        return list(self._pages(f"{BASE}/msdyn_operationsets", params))

    def operation_set(self, set_id: str) -> dict[str, Any]:
        return self._json("GET", f"{BASE}/msdyn_operationsets({set_id})", {"$select": "msdyn_status"})

    def failure(self, set_id: str) -> str | None:
        """Why a set failed, from its Project Scheduling Service error log, where the user may read it
        (an administrative log: None when it cannot be read)."""
        try:
            found = self._json("GET", f"{BASE}/msdyn_operationsets({set_id})",
                               {"$select": "_msdyn_psserrorlog_value"})  # fmt: skip
            log = (found or {}).get("_msdyn_psserrorlog_value")
            if not log:
                return None
            entry = self._json("GET", f"{BASE}/msdyn_psserrorlogs({log})", {"$select": "msdyn_log"}) or {}
        except HttpError:
            return None
        lines = str(entry.get("msdyn_log") or "").strip().splitlines()
        return lines[0][:300] if lines else None

    def create_operation_set(self, project: str, description: str) -> str:
        body = {"ProjectId": project, "Description": description}
        return str(self._json("POST", f"{BASE}/msdyn_CreateOperationSetV1", body=body)["OperationSetId"])

    def create(self, set_id: str, entities: Sequence[dict[str, Any]]) -> None:
        self._json(
            "POST",
            f"{BASE}/msdyn_PssCreateV2",
            body={"EntityCollection": list(entities), "OperationSetId": set_id},
        )

    def update(self, set_id: str, entities: Sequence[dict[str, Any]]) -> None:
        self._json(
            "POST",
            f"{BASE}/msdyn_PssUpdateV2",
            body={"EntityCollection": list(entities), "OperationSetId": set_id},
        )

    def execute(self, set_id: str) -> None:
        self._json("POST", f"{BASE}/msdyn_ExecuteOperationSetV1", body={"OperationSetId": set_id})

    def abandon(self, set_id: str) -> None:
        self._json("POST", f"{BASE}/msdyn_AbandonOperationSetV1", body={"OperationSetId": set_id})

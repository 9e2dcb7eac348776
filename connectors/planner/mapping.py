"""The plan's items <-> Dataverse project tasks: the marker every task carries in its description, the
entities sent through the schedule API, progress read back, and status notes as plain text."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from .. import answers, plaintext
from ..plaintext import marker, note_text, read_marker
from ..values import (
    ITEM_NAMESPACE,
    ItemKind,
    ItemProgress,
    ItemSpec,
    LinkKind,
)

TASK = "Microsoft.Dynamics.CRM.msdyn_projecttask"
DEPENDENCY = "Microsoft.Dynamics.CRM.msdyn_projecttaskdependency"
TEAM_MEMBER = "Microsoft.Dynamics.CRM.msdyn_projectteam"
ASSIGNMENT = "Microsoft.Dynamics.CRM.msdyn_resourceassignment"
TITLE_LIMIT = 250
ZERO = Decimal(0)
STATUS = "--- iso20k-sync status ---"
LINK_TYPES = {LinkKind.FS: 192350000, LinkKind.SS: 192350001, LinkKind.FF: 192350002, LinkKind.SF: 192350003}
"""msdyn_projecttaskdependencylinktype option values."""
TASK_FIELDS = (
    "msdyn_projecttaskid,msdyn_subject,msdyn_description,msdyn_scheduledstart,msdyn_scheduledend,"
    "msdyn_progress,msdyn_effort,msdyn_effortcompleted,msdyn_effortremaining,msdyn_actualstart,"
    "msdyn_actualend,modifiedon,_msdyn_parenttask_value"
)


def project_marker(plan_key: str) -> str:
    """What our project's description carries, so a seed finds the project it made."""
    return f"[iso20k-plan:{plan_key}]"


def set_description(plan_key: str) -> str:
    """The description of our operation sets, so a run finds the sets an earlier run left open."""
    return f"iso20k-sync {plan_key}"


def one_line(text: str, limit: int = TITLE_LIMIT) -> str:
    return plaintext.one_line(text, limit)


def link_id(plan_key: str, predecessor: str, successor: str) -> str:
    """The client-assigned id of a dependency: a re-sent create names the same record."""
    return str(uuid.uuid5(ITEM_NAMESPACE, f"{plan_key}:{predecessor}->{successor}"))


def team_member_id(plan_key: str, role: str) -> str:
    """The client-assigned id of a role's team member, the same on every run."""
    return str(uuid.uuid5(ITEM_NAMESPACE, f"{plan_key}:role:{role}"))


def assignment_id(plan_key: str, key: str) -> str:
    return str(uuid.uuid5(ITEM_NAMESPACE, f"{plan_key}:assignment:{key}"))


def description(spec: ItemSpec, plan_key: str) -> str:
    facts = [f"Planned: {spec.start} to {spec.due}"]
    if spec.phase_name:
        facts.append(f"Phase: {one_line(spec.phase_name)}")
    if spec.clauses:
        facts.append(f"Clauses: {', '.join(spec.clauses)}")
    if spec.owner_role:
        facts.append(f"Owner: {one_line(spec.owner_role)}")
    if spec.wbs:
        facts.append(f"WBS: {spec.wbs}")
    title = one_line(spec.title)
    parts = [spec.title.strip()] if title != " ".join(spec.title.split()) else []
    if spec.description:
        parts.append(spec.description.strip())
    parts += ["\n".join(facts), marker(plan_key, spec.key, spec.kind)]
    return "\n\n".join(parts)


def with_note(current: str, note: str) -> str:
    """A description with its status section (before the marker) replaced by ``note``."""
    at = current.rfind("\n[iso20k:")
    head, tail = (current[:at], current[at + 1 :]) if at >= 0 else (current, "")
    head = head.split(f"\n\n{STATUS}\n")[0].rstrip()
    return "\n\n".join(part for part in (head, f"{STATUS}\n{note.strip()}", tail) if part)


def note_of(text: str | None) -> str | None:
    """The status section of a description, or None."""
    parts = (text or "").split(f"\n\n{STATUS}\n")
    if len(parts) < 2:
        return None
    return re.sub(r"\n\n\[iso20k:[^\]]*\]\s*$", "", parts[1]).strip()


def dataverse_time(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def task_entity(
    spec: ItemSpec, plan_key: str, project: str, bucket: str, parent: str | None, hours_per_day: float
) -> dict[str, Any]:
    """A msdyn_projecttask for msdyn_PssCreateV2, with our GUID (a re-sent create names the same task)."""
    entity: dict[str, Any] = {
        "@odata.type": TASK,
        "msdyn_projecttaskid": str(spec.uid),
        "msdyn_subject": one_line(spec.title),
        "msdyn_description": description(spec, plan_key),
        "msdyn_project@odata.bind": f"msdyn_projects({project})",
        "msdyn_projectbucket@odata.bind": f"msdyn_projectbuckets({bucket})",
        "msdyn_scheduledstart": dataverse_time(spec.start),
        "msdyn_scheduledend": dataverse_time(spec.due),
    }
    if parent is not None:
        entity["msdyn_parenttask@odata.bind"] = f"msdyn_projecttasks({parent})"
    if spec.kind is not ItemKind.phase:  # a summary task's duration and effort are its children's
        entity["msdyn_duration"] = spec.duration_days
        if spec.estimate_days > 0:
            entity["msdyn_effort"] = float(spec.estimate_days * Decimal(str(hours_per_day)))
    return entity


def dependency_entity(
    dependency: str, project: str, predecessor: str, successor: str, kind: LinkKind
) -> dict[str, Any]:
    return {
        "@odata.type": DEPENDENCY,
        "msdyn_projecttaskdependencyid": dependency,
        "msdyn_project@odata.bind": f"msdyn_projects({project})",
        "msdyn_predecessortask@odata.bind": f"msdyn_projecttasks({predecessor})",
        "msdyn_successortask@odata.bind": f"msdyn_projecttasks({successor})",
        "msdyn_linktype": LINK_TYPES[kind],
    }


def team_member_entity(member: str, project: str, role: str) -> dict[str, Any]:
    """A generic team member for a role (a name, no bookable resource): who does a task, not yet whom."""
    return {
        "@odata.type": TEAM_MEMBER,
        "msdyn_projectteamid": member,
        "msdyn_name": one_line(role, 100),
        "msdyn_project@odata.bind": f"msdyn_projects({project})",
    }


def assignment_entity(assignment: str, project: str, task: str, member: str, name: str) -> dict[str, Any]:
    return {
        "@odata.type": ASSIGNMENT,
        "msdyn_resourceassignmentid": assignment,
        "msdyn_name": one_line(name, 100),
        "msdyn_projectid@odata.bind": f"msdyn_projects({project})",
        "msdyn_taskid@odata.bind": f"msdyn_projecttasks({task})",
        "msdyn_projectteamid@odata.bind": f"msdyn_projectteams({member})",
    }


def progress(key: str, row: dict[str, Any], hours_per_day: float) -> tuple[ItemProgress, list[str]]:
    """A task's progress: msdyn_progress is a fraction (0.34 = 34 %), effort is in hours. Dataverse has no
    cost per task (cost is effort times the role's rate plus expenses), so actual_cost stays None and the
    engine prices time_spent_days at the owner's rate."""
    problems: list[str] = []
    day = Decimal(str(hours_per_day))

    def amount(field: str) -> Decimal | None:
        return answers.number(row.get(field), f"{key}: {field}", problems, minimum=ZERO)

    fraction = amount("msdyn_progress")
    if fraction is not None and not 0 <= fraction <= 1:
        problems.append(f"{key}: msdyn_progress {fraction} is not a fraction between 0 and 1")
        fraction = None
    spent, left = amount("msdyn_effortcompleted"), amount("msdyn_effortremaining")
    start = answers.day(row.get("msdyn_actualstart"), f"{key}: msdyn_actualstart", problems)
    finish = answers.day(row.get("msdyn_actualend"), f"{key}: msdyn_actualend", problems)
    finish = answers.in_order(key, start, finish, problems)
    done = fraction == 1
    facts = ItemProgress(
        state=answers.state(done, started=bool(fraction) or bool(spent) or start is not None),
        percent_complete=(fraction * 100).quantize(Decimal("0.1")) if fraction is not None else None,
        actual_start=start,
        actual_finish=finish if done else None,
        time_spent_days=(spent / day) if spent else None,
        remaining_days=(left / day) if left is not None and left >= 0 else None,
    )
    return facts, problems


__all__ = ["marker", "note_text", "read_marker"]

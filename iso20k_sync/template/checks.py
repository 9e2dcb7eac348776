"""Whole-template checks: ids, references, dependency cycles and the names expressions use."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InputProblem, PathItem
from ..expressions import compared_texts, names
from .model import PlanTemplate, TaskTemplate

Path = tuple[PathItem, ...]


def check_template(template: PlanTemplate) -> list[InputProblem]:
    """Every problem found, in file order; an empty list means the template is sound."""
    problems: list[InputProblem] = []
    problems += _duplicates(template)
    problems += _followed(template)
    problems += _expression_names(template)
    problems += _task_rules(template)
    if not problems:
        problems += _cycles(template)
    return problems


def _followed(template: PlanTemplate) -> list[InputProblem]:
    """A parameter follows another parameter of the same type."""
    problems = []
    for name, spec in template.parameters.items():
        leader = template.parameters.get(spec.follows) if spec.follows else None
        if spec.follows and (leader is None or leader.type != spec.type):
            problems.append(
                InputProblem(
                    ("parameters", name, "follows"),
                    f"{spec.follows!r} is not a parameter of type {spec.type} in this template",
                )
            )
    return problems


def _task_paths(template: PlanTemplate) -> Iterator[tuple[Path, TaskTemplate]]:
    for p, phase in enumerate(template.phases):
        for t, task in enumerate(phase.tasks):
            yield ("phases", p, "tasks", t), task


def _duplicates(template: PlanTemplate) -> list[InputProblem]:
    problems = []
    seen: dict[str, Path] = {}
    for r, role in enumerate(template.roles):
        if role.id in seen:
            problems.append(InputProblem(("roles", r, "id"), f"duplicate role id {role.id!r}"))
        seen[role.id] = ("roles", r)
    seen = {}
    for p, phase in enumerate(template.phases):
        if phase.id in seen:
            problems.append(InputProblem(("phases", p, "id"), f"duplicate phase id {phase.id!r}"))
        seen[phase.id] = ("phases", p)
    seen = {}
    for path, task in _task_paths(template):
        if task.id in seen:
            first = ".".join(map(str, seen[task.id]))
            problems.append(
                InputProblem((*path, "id"), f"duplicate task id {task.id!r} (first used at {first})")
            )
        else:
            seen[task.id] = path
    return problems


def _expressions(template: PlanTemplate) -> Iterator[tuple[Path, object]]:
    """Every expression field in file order, variables first."""
    for name, expr in template.variables.items():
        yield ("variables", name), expr
    for r, role in enumerate(template.roles):
        yield ("roles", r, "day_rate"), role.day_rate
    for path, task in _task_paths(template):
        yield (*path, "duration"), task.duration
        for role_id, expr in task.effort.items():
            yield (*path, "effort", role_id), expr
        for c, cost in enumerate(task.costs):
            yield (*path, "costs", c, "amount"), cost.amount


def _expression_names(template: PlanTemplate) -> list[InputProblem]:
    problems = []
    known = set(template.parameters)
    for path, expr in _expressions(template):
        problems += _unknown_names(path, expr, known)
        problems += _unknown_choices(path, expr, template)
        if path[0] == "variables":
            known.add(str(path[1]))
    return problems


def _unknown_choices(path: Path, expr: object, template: PlanTemplate) -> list[InputProblem]:
    """A choice compared with text that is not one of its choices is a typo that silently never matches."""
    if not isinstance(expr, str):
        return []
    problems = []
    for name, text in compared_texts(expr):
        spec = template.parameters.get(name)
        if spec is not None and spec.choices is not None and text not in spec.choices:
            problems.append(
                InputProblem(
                    path,
                    f"{name!r} is compared with {text!r}, which is not one of its choices "
                    f"({', '.join(spec.choices)})",
                )
            )
    return problems


def _unknown_names(path: Path, expr: object, known: set[str]) -> list[InputProblem]:
    if not isinstance(expr, str):
        return []
    unknown = sorted(names(expr) - known)
    if not unknown:
        return []
    return [
        InputProblem(
            path,
            f"expression {expr!r} uses unknown name(s) {', '.join(unknown)}; "
            f"expected parameters or earlier variables: {', '.join(sorted(known)) or 'none defined'}",
        )
    ]


def _task_rules(template: PlanTemplate) -> list[InputProblem]:
    problems = []
    task_ids = {task.id for task in template.tasks()}
    role_ids = {role.id for role in template.roles}
    for path, task in _task_paths(template):
        for d, dep in enumerate(task.depends_on):
            if dep.task == task.id:
                problems.append(InputProblem((*path, "depends_on", d), f"task {task.id!r} depends on itself"))
            elif dep.task not in task_ids:
                problems.append(
                    InputProblem((*path, "depends_on", d), f"unknown task {dep.task!r}: no task has this id")
                )
        for role_id in task.effort:
            if role_id not in role_ids:
                problems.append(
                    InputProblem(
                        (*path, "effort", role_id),
                        f"unknown role {role_id!r}; expected one of {', '.join(sorted(role_ids))}",
                    )
                )
        if task.owner is not None and task.owner not in role_ids:
            problems.append(
                InputProblem(
                    (*path, "owner"),
                    f"unknown role {task.owner!r}; expected one of {', '.join(sorted(role_ids))}",
                )
            )
        if not isinstance(task.duration, str) and task.duration < 0:
            problems.append(
                InputProblem(
                    (*path, "duration"), f"negative duration {task.duration}; expected working days >= 0"
                )
            )
        if task.milestone:
            if isinstance(task.duration, str) or task.duration != 0:
                problems.append(
                    InputProblem(
                        (*path, "duration"), f"milestone {task.id!r} has a duration; a milestone takes 0 days"
                    )
                )
            if task.effort:
                problems.append(
                    InputProblem(
                        (*path, "effort"), f"milestone {task.id!r} has effort; a milestone takes no effort"
                    )
                )
    return problems


def _cycles(template: PlanTemplate) -> list[InputProblem]:
    """Find one dependency cycle with an iterative depth-first search and report it."""
    successors_of: dict[str, list[str]] = {t.id: [] for t in template.tasks()}
    path_of = {task.id: path for path, task in _task_paths(template)}
    for task in template.tasks():
        for dep in task.depends_on:
            successors_of[dep.task].append(task.id)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in successors_of:
        if state.get(root):
            continue
        stack = [(root, iter(successors_of[root]))]
        trail = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                trail.pop()
            elif state.get(child) == 1:
                cycle = [*trail[trail.index(child) :], child]
                return [
                    InputProblem(
                        (*path_of[child], "depends_on"),
                        "dependency cycle (predecessor -> successor): " + " -> ".join(cycle),
                    )
                ]
            elif not state.get(child):
                state[child] = 1
                trail.append(child)
                stack.append((child, iter(successors_of[child])))
    return []

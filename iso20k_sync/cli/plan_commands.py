"""Commands that work on templates and plans without a store: template list|show|validate|schema, plan."""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from ..calendar import WEEKDAYS, CalendarConfig, CalendarSpec
from ..errors import InputError, InputProblem
from ..export.json_out import plan_json
from ..export.table import render_plan
from ..files import write_atomically
from ..instantiate import instantiate
from ..plan import Plan
from ..template import bundled_template_ids, load_template_text, resolve_template
from ..template.model import CostCategory, PlanTemplate
from .common import EXIT_INPUT, ReportFormat, err, out, parse_date, parse_params, reports_errors

template_app = typer.Typer(
    help="List, show, validate and import (from Microsoft Project) plan templates.", no_args_is_help=True
)


class PlanFormat(StrEnum):
    table = "table"
    json = "json"
    xlsx = "xlsx"
    mspdi = "mspdi"


# --- template ------------------------------------------------------------------------------------


@template_app.command("list")
@reports_errors
def template_list(fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.table) -> None:
    """List the templates bundled with iso20k-sync."""
    templates = [resolve_template(ref) for ref in bundled_template_ids()]
    if fmt is ReportFormat.json:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "version": t.version,
                "tasks": len(t.tasks()),
                "currency": t.currency,
            }
            for t in templates
        ]
        print(json.dumps(rows, indent=2))
        return
    table = Table("Id", "Name", "Version", "Phases", "Tasks", header_style="bold")
    for t in templates:
        table.add_row(t.id, t.name, t.version, str(len(t.phases)), str(len(t.tasks())))
    out.print(table)


@template_app.command("show")
@reports_errors
def template_show(
    ref: Annotated[str, typer.Argument(metavar="ID|PATH", help="Bundled template id or a YAML file.")],
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.table,
) -> None:
    """Show a template's parameters, roles and phases."""
    template = resolve_template(ref)
    if fmt is ReportFormat.json:
        print(template.model_dump_json(indent=2))
        return
    out.print(f"[bold]{template.name}[/] ({template.id} v{template.version}, {template.currency})")
    if template.description:
        out.print(template.description.strip())
    params = Table("Parameter", "Type", "Default", "Description", title="Parameters", title_justify="left")
    for name, p in template.parameters.items():
        kind = f"{p.type}: {' | '.join(p.choices)}" if p.choices else p.type
        params.add_row(name, kind, str(p.default), p.description)
    out.print(params)
    roles = Table("Role", "Name", "Day rate", "Category", title="Roles", title_justify="left")
    for role in template.roles:
        roles.add_row(role.id, role.name, str(role.day_rate), role.category.value)
    out.print(roles)
    phases = Table("Phase", "Name", "Tasks", "Milestones", title="Phases", title_justify="left")
    for phase in template.phases:
        milestones = sum(1 for t in phase.tasks if t.milestone)
        phases.add_row(phase.id, phase.name, str(len(phase.tasks) - milestones), str(milestones))
    out.print(phases)


@template_app.command("validate")
def template_validate(
    refs: Annotated[list[str], typer.Argument(metavar="ID|PATH...", help="Templates to check.")],
    params: Annotated[
        list[str] | None, typer.Option("--param", "-p", metavar="KEY=VALUE", help="Check with these values.")
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.table,
) -> None:
    """Check templates: structure, references, cycles, and that they schedule with their defaults."""
    results = []
    for ref in refs:
        try:
            template = resolve_template(ref)
            plan = instantiate(template, date.today(), parse_params(params), source=ref)
            results.append({"template": ref, "valid": True, "tasks": len(plan.tasks), "problems": []})
        except InputError as exc:
            problems = [p.render(exc.source) for p in exc.problems]
            results.append({"template": ref, "valid": False, "tasks": None, "problems": problems})
    if fmt is ReportFormat.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            if result["valid"]:
                out.print(f"[green]valid[/]   {result['template']} ({result['tasks']} tasks)")
            else:
                err.print(f"[red]invalid[/] {result['template']}", highlight=False)
                for problem in result["problems"]:
                    err.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
    if not all(r["valid"] for r in results):
        raise typer.Exit(EXIT_INPUT)


@template_app.command("schema")
def template_schema() -> None:
    """Print the JSON Schema of the template format (for editors and CI checks)."""
    schema = PlanTemplate.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "iso20k-sync plan template"
    print(json.dumps(schema, indent=2))


@template_app.command("import")
@reports_errors
def template_import(
    source: Annotated[
        Path, typer.Argument(metavar="FILE", help="Microsoft Project XML, or .mpp (needs Java).")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Template file to write (default: standard output).")
    ] = None,
    cost_category: Annotated[
        CostCategory, typer.Option(help="Category of fixed costs and of cost resources.")
    ] = CostCategory.tools,
) -> None:
    """Read a Microsoft Project file into a template; list on stderr what it cannot carry."""
    from ..export.mspdi_import import read_project_file, template_yaml

    imported = read_project_file(source, cost_category)
    text = template_yaml(imported, source.name)
    # The template must pass `template validate`: load it and schedule it as that command does.
    shown = f"{source} as a template"
    instantiate(load_template_text(text, source=shown), date.today(), source=shown)
    for warning in imported.warnings:
        err.print(f"warning: {warning}", highlight=False, markup=False)
    if output is None:
        sys.stdout.write(text)
        return
    write_atomically(output, text.encode())
    tasks = sum(len(phase["tasks"]) for phase in imported.template["phases"])
    err.print(
        f"wrote {output} ({len(imported.template['phases'])} phases, {tasks} tasks, "
        f"{len(imported.warnings)} warning(s))",
        highlight=False,
    )


# --- plan ----------------------------------------------------------------------------------------


@reports_errors
def plan_command(
    start: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD", help="Project start (next working day if not one) [with --org: its start]."
        ),
    ] = None,
    template_ref: Annotated[
        str, typer.Option("--template", "-t", metavar="ID|PATH", help="Bundled template id or YAML file.")
    ] = "iso20000-1-2018",
    params: Annotated[
        list[str] | None, typer.Option("--param", "-p", metavar="KEY=VALUE", help="Set a template parameter.")
    ] = None,
    org: Annotated[
        Path | None,
        typer.Option("--org", help="Organisation profile: parameters, calendar and start from it."),
    ] = None,
    country: Annotated[str | None, typer.Option(help="Public holidays of this country (ISO 3166).")] = None,
    subdivision: Annotated[str | None, typer.Option(help="State/province for public holidays.")] = None,
    holidays: Annotated[
        list[str] | None, typer.Option("--holiday", metavar="YYYY-MM-DD", help="Extra day off (repeatable).")
    ] = None,
    weekend: Annotated[str, typer.Option(help="Days off each week, e.g. sat,sun or fri,sat.")] = "sat,sun",
    fmt: Annotated[PlanFormat, typer.Option("--format", "-f")] = PlanFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Instantiate a plan template: schedule (critical path), milestones and baseline budget."""
    if org is not None:
        if params or country or subdivision or holidays:
            raise InputError(
                "--org",
                [
                    InputProblem(
                        (),
                        "the profile sets parameters and the calendar: "
                        "drop --param, --country, --subdivision and --holiday",
                    )
                ],
            )
        from ..feasibility import load_profile
        from ..feasibility.estimate import profile_plan

        profile = load_profile(org)
        if start is not None:
            profile = profile.model_copy(update={"planned_start": parse_date("--start", start)})
        _emit_plan(profile_plan(profile, str(org), resolve_template(template_ref)), fmt, output)
        return
    if start is None:
        raise InputError("--start", [InputProblem((), "the project start is needed (or give --org)")])
    start_date = parse_date("--start", start)
    calendar = _calendar(country, subdivision, holidays or [], weekend)
    plan = instantiate(
        resolve_template(template_ref), start_date, parse_params(params), calendar, source=template_ref
    )
    _emit_plan(plan, fmt, output)


def _emit_plan(plan: Plan, fmt: PlanFormat, output: Path | None) -> None:
    if fmt is PlanFormat.table and output is None:
        render_plan(plan, out)
        return
    if fmt in (PlanFormat.xlsx, PlanFormat.mspdi) and output is None:
        output = Path(f"{plan.template.id}-plan.{'xlsx' if fmt is PlanFormat.xlsx else 'xml'}")
    if output is None:
        sys.stdout.write(plan_json(plan) if fmt is PlanFormat.json else _table_text(plan))
        return
    if fmt is PlanFormat.xlsx:
        from ..export.xlsx import write_plan_workbook

        write_plan_workbook(plan, output)
    elif fmt is PlanFormat.mspdi:
        from ..export.mspdi import to_mspdi

        write_atomically(output, to_mspdi(plan))
    else:
        write_atomically(output, (plan_json(plan) if fmt is PlanFormat.json else _table_text(plan)).encode())
    err.print(f"wrote {output} ({len(plan.tasks)} tasks, finish {plan.finish})", highlight=False)


def _table_text(plan: Plan) -> str:
    console = Console(record=True, width=160, file=io.StringIO())
    render_plan(plan, console)
    return console.export_text()


# --- calendar options ----------------------------------------------------------------------------


def _calendar(
    country: str | None, subdivision: str | None, holidays: list[str], weekend: str
) -> CalendarSpec:
    days = [d.strip().lower()[:3] for d in weekend.split(",") if d.strip()]
    unknown = [d for d in days if d not in WEEKDAYS]
    if unknown:
        raise InputError(
            "--weekend", [InputProblem((), f"unknown day(s) {unknown}; expected {', '.join(WEEKDAYS)}")]
        )
    try:
        return CalendarConfig(
            weekend=days,  # type: ignore[arg-type]  # checked against WEEKDAYS above
            country=country,
            subdivision=subdivision,
            holidays=[parse_date("--holiday", h) for h in holidays],
        ).spec()
    except ValidationError as exc:
        problems = [InputProblem(e["loc"], e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
        raise InputError("calendar options", problems) from None

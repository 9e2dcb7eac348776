"""The feasibility scheme as a document: Markdown, one self-contained printable HTML page, or JSON.

Each section is built once as plain-text blocks (paragraphs, lists, facts, tables); the Markdown and
HTML renderers only lay those blocks out and escape them, so both formats always show the same numbers.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..template.model import CostCategory
from .estimate import CostEstimate
from .report import FeasibilityReport

SHORT = {
    # column headers and chart labels; the cost table uses the parts' full names
    CostCategory.consulting: "Consulting",
    CostCategory.certification: "Certification",
    CostCategory.training: "Training",
    CostCategory.materials: "Materials",
    CostCategory.tools: "Tools",
    CostCategory.internal: "Internal effort",
}
NOT_INCLUDED = "not included"
DASH = "–"


# -- the document as blocks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Para:
    text: str
    strong: bool = False
    css: str = ""


@dataclass(frozen=True)
class Items:
    items: list[str]
    ordered: bool = False


@dataclass(frozen=True)
class Facts:
    """Label-value pairs: a bullet list in Markdown, a two-column table in HTML."""

    rows: list[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    id: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    total: tuple[str, ...] | None = None
    numeric: frozenset[int] = field(default_factory=frozenset)
    """Indexes of the right-aligned (amount) columns."""


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Chart:
    """The cost-breakdown chart: inline SVG in HTML, left out of Markdown."""

    costs: CostEstimate


Block = Para | Items | Facts | Table | Heading | Chart


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: list[Block]


def money(amount: Decimal, currency: str = "") -> str:
    """``1,234.50 USD``; without a currency when the column header names it."""
    text = f"{amount:,.2f}"
    return f"{text} {currency}" if currency else text


def _number(value: Decimal) -> str:
    """Days and the like: thousands separator, at most two decimals, no trailing zeros."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _systems(systems: list[str]) -> str:
    return ", ".join(s.upper().replace("ISO", "ISO ") for s in systems) or "none certified"


def _forecast(forecast: date | None, target: date | None) -> str:
    if forecast is None:
        return "no certificate date in the plan"
    if target is None:
        return f"{forecast} (no target set)"
    days = (target - forecast).days
    if days == 0:
        return f"{forecast}, on the target date"
    if days > 0:
        return f"{forecast}, {days} days before the target {target}"
    return f"{forecast}, {-days} days after the target {target}: the target is not realistic"


def _limit(costs: CostEstimate, limit: Decimal | None) -> str:
    """The sponsor's three-year budget limit, and where the estimate range lies against it."""
    if limit is None:
        return "not set"
    text, unit = money(limit, costs.currency), costs.currency
    if costs.expected > limit:
        return f"{text}: the expected cost exceeds it by {money(costs.expected - limit, unit)}"
    if costs.high > limit:
        above = money(costs.high - limit, unit)
        return f"{text}: the expected cost is within it, the high estimate exceeds it by {above}"
    return f"{text}: the whole range is within it"


def _sections(report: FeasibilityReport) -> list[Section]:
    return [
        Section("summary", "Summary", _summary(report)),
        Section("scope", "Scope", _scope(report)),
        Section("management-basis", "Management basis", _management_basis(report)),
        Section("benefits", "Benefits", _benefits(report)),
        Section("costs", "Resources and costs", _costs(report.costs, report.scope.budget_limit)),
        Section("recommendation", "Recommendation", _recommendation(report)),
    ]


def _verdict(report: FeasibilityReport) -> Para:
    verdict = report.recommendation.verdict
    return Para(report.recommendation.headline, strong=True, css=f"verdict verdict-{verdict}")


def _summary(report: FeasibilityReport) -> list[Block]:
    costs, scope = report.costs, report.scope
    return [
        _verdict(report),
        Facts(
            [
                (
                    "Expected three-year cost",
                    f"{money(costs.expected, costs.currency)} "
                    f"(range {money(costs.low)} to {money(costs.high, costs.currency)})",
                ),
                ("Budget limit", _limit(costs, scope.budget_limit)),
                ("Certificate forecast", _forecast(scope.certificate_forecast, scope.target_certification)),
                ("Management basis", f"{report.management_basis.overall}/100 overall"),
            ]
        ),
    ]


def _scope(report: FeasibilityReport) -> list[Block]:
    scope = report.scope
    return [
        Facts(
            [
                ("Organisation", scope.organisation),
                ("Staff in scope", f"{scope.staff_in_scope:,}"),
                ("Staff to train", f"{scope.staff_to_train:,}"),
                ("Services", ", ".join(scope.services)),
                ("Sites", ", ".join(scope.sites)),
                ("Management systems", _systems(scope.management_systems)),
                ("Planned start", str(scope.planned_start)),
                ("Target certification", str(scope.target_certification or "not set")),
            ]
        )
    ]


def _management_basis(report: FeasibilityReport) -> list[Block]:
    basis = report.management_basis
    scores = (basis.itil_foundation, basis.organisation, basis.management_system)
    blocks: list[Block] = [
        Table(
            "score-table",
            ("Foundation", "Score", "Basis"),
            [(s.name, f"{s.score}/100", s.basis) for s in scores],
            total=("Overall", f"{basis.overall}/100", basis.overall_basis),
            numeric=frozenset({1}),
        ),
        Heading("Gaps (clause 8)"),
    ]
    if basis.gaps:
        blocks.append(
            Table(
                "gap-table",
                ("Clause", "Area", "Level", "What it takes"),
                [(g.clause, g.area, g.level, g.note) for g in basis.gaps],
            )
        )
    else:
        blocks.append(Para("No gaps: every clause 8 area is conforming."))
    blocks.append(Heading("Risks"))
    if basis.risks:
        blocks.append(
            Table(
                "risk-table",
                ("Risk", "Level", "Why", "Countermeasure"),
                [(r.name, r.level, r.why, r.countermeasure) for r in basis.risks],
            )
        )
    else:
        blocks.append(Para("No notable risks."))
    return blocks


def _benefits(report: FeasibilityReport) -> list[Block]:
    currency = report.costs.currency
    return [
        Table(
            "benefit-table",
            ("Axis", "Kind", "Benefit", f"Annual value ({currency})"),
            [
                (b.axis, b.kind, b.text, DASH if b.annual_value is None else money(b.annual_value))
                for b in report.benefits
            ],
            numeric=frozenset({3}),
        )
    ]


def _costs(costs: CostEstimate, limit: Decimal | None) -> list[Block]:
    return [
        Para(
            "Three years: implementation to the certificate, two surveillance years and recertification. "
            "Low and high show how far each part typically moves."
        ),
        _cost_table(costs),
        Facts([("Budget limit (three years)", _limit(costs, limit))]),
        Chart(costs),
        Heading("By year"),
        _by_year_table(costs),
        Heading("Certification"),
        *_certification(costs),
        Heading("Internal effort"),
        Facts(
            [
                ("Internal effort", f"{_number(costs.internal_person_days)} person-days of own staff"),
                (
                    "of which training",
                    f"{_number(costs.training_person_days)} person-days of awareness and process training",
                ),
            ]
        ),
    ]


def _cost_table(costs: CostEstimate) -> Table:
    currency = costs.currency
    rows = [
        (part.name, money(part.low), money(part.expected), money(part.high))
        if part.included
        else (f"{part.name} ({NOT_INCLUDED})", DASH, DASH, DASH)
        for part in costs.parts
    ]
    return Table(
        "cost-table",
        ("Part", f"Low ({currency})", f"Expected ({currency})", f"High ({currency})"),
        rows,
        total=("Total", money(costs.low), money(costs.expected), money(costs.high)),
        numeric=frozenset({1, 2, 3}),
    )


def _by_year_table(costs: CostEstimate) -> Table:
    included = [part.category for part in costs.parts if part.included]
    columns = {category: Decimal(0) for category in included}
    rows = []
    for year in costs.by_year:
        rows.append((year.period, *(money(year.by_category[c]) for c in included), money(year.total)))
        for category in included:
            columns[category] += year.by_category[category]
    total = sum((year.total for year in costs.by_year), Decimal(0))
    return Table(
        "by-year-table",
        ("Period", *(SHORT[c] for c in included), f"Total ({costs.currency})"),
        rows,
        total=("Three years", *(money(amount) for amount in columns.values()), money(total)),
        numeric=frozenset(range(1, len(included) + 2)),
    )


def _certification(costs: CostEstimate) -> list[Block]:
    cert, currency = costs.certification, costs.currency
    days = (
        f"{_number(cert.initial_audit_days)} initial (Stage 1 and Stage 2), "
        f"{_number(cert.surveillance_days)} per surveillance, "
        f"{_number(cert.recertification_days)} recertification"
    )
    if cert.basis == "proxy":
        blocks: list[Block] = [
            Para(
                "PROXY estimate, not a quote: the audit fees below are estimated from "
                f"{cert.source.removeprefix('PROXY: ')}. Replace them with the certification body's quote "
                "before the budget is approved.",
                strong=True,
                css="proxy",
            )
        ]
        method = [
            ("Audit time (auditor-days, PROXY)", days),
            (
                "Day rate and expenses",
                f"{money(cert.day_rate, currency)} per auditor-day plus "
                f"{money(cert.expenses_per_day, currency)} expenses",
            ),
        ]
    else:
        blocks = [Para(f"Basis: the certification body's {cert.source}.", strong=True, css="quote")]
        method = [("Audit time, IAF MD5 reference for checking the quote (auditor-days)", days)]
    blocks += [
        Facts(
            [
                ("Headcount (people in scope)", f"{cert.headcount:,}"),
                *method,
                ("Initial audit (Stage 1 and Stage 2)", money(cert.initial_fee, currency)),
                ("Surveillance audit, years 1 and 2", f"{money(cert.surveillance_fee, currency)} each"),
                ("Recertification audit, year 3", money(cert.recertification_fee, currency)),
                ("Certificate fees, three years", money(cert.certificate_fees, currency)),
                ("Three-year total", money(cert.three_year_total, currency)),
            ]
        ),
        Para(cert.check_quote),
    ]
    return blocks


def _recommendation(report: FeasibilityReport) -> list[Block]:
    advice = report.recommendation
    blocks: list[Block] = [_verdict(report), Heading("Reasons"), Items(advice.reasons)]
    if advice.conditions:
        blocks += [Heading("Conditions"), Items(advice.conditions)]
    timeline = sorted(advice.timeline, key=lambda gate: gate.date)
    blocks += [
        Heading("Timeline"),
        Table("timeline-table", ("Gate", "Date"), [(gate.name, str(gate.date)) for gate in timeline]),
        Heading("Decisions for the sponsor"),
        Items(advice.decisions, ordered=True),
    ]
    return blocks


# -- Markdown ------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|#])|(?<!\w)_|_(?!\w)")


def _md(text: str) -> str:
    """Escape what Markdown would read as markup (``_`` only where it could start emphasis)."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_block(block: Block) -> list[str]:
    match block:
        case Para(text=text, strong=strong):
            return [f"**{_md(text)}**" if strong else _md(text)]
        case Items(items=items, ordered=ordered):
            return [f"{f'{n}.' if ordered else '-'} {_md(item)}" for n, item in enumerate(items, 1)]
        case Facts(rows=rows):
            return [f"- **{_md(label)}:** {_md(value)}" for label, value in rows]
        case Table(headers=headers, rows=rows, total=total, numeric=numeric):
            lines = [
                _md_row(tuple(_md(h) for h in headers)),
                _md_row(tuple("---:" if i in numeric else "---" for i in range(len(headers)))),
            ]
            lines += [_md_row(tuple(_md(c) for c in row)) for row in rows]
            if total is not None:
                lines.append(_md_row(tuple(f"**{_md(c)}**" for c in total)))
            return lines
        case Heading(text=text):
            return [f"### {_md(text)}"]
        case Chart():
            return []
    raise TypeError(block)


def to_markdown(report: FeasibilityReport) -> str:
    lines = [
        f"# {_md(report.title)}",
        "",
        f"Generated {report.generated} from the template {_md(report.template)}.",
        "",
    ]
    for number, section in enumerate(_sections(report), 1):
        lines += [f"## {number}. {_md(section.title)}", ""]
        for block in section.blocks:
            rendered = _md_block(block)
            if rendered:
                lines += [*rendered, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# -- HTML ----------------------------------------------------------------------------------------------

_e = html.escape

CSS = """
:root { --ink: #1d232b; --muted: #5b6470; --rule: #d5dae0; --band: #f3f5f7; }
* { box-sizing: border-box; }
body { font: 11pt/1.45 "Segoe UI", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid var(--ink); padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .5rem; }
.meta { color: var(--muted); margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95em; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--band); border-bottom: 2px solid var(--ink); }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid var(--ink); border-bottom: none; }
table.facts th { width: 34%; font-weight: 600; }
.verdict { font-size: 1.15rem; padding: .6rem .9rem; border-left: 6px solid; border-radius: 3px; }
.verdict-proceed { color: #1b7a3a; border-color: #1b7a3a; background: #e8f4ec; }
.verdict-proceed_with_conditions { color: #a65f00; border-color: #d98c00; background: #fdf3e1; }
.verdict-not_now { color: #b3261e; border-color: #b3261e; background: #fbe9e8; }
.proxy { padding: .5rem .8rem; border: 2px solid #d98c00; background: #fdf3e1; border-radius: 3px; }
.quote { padding: .5rem .8rem; border-left: 6px solid #1b7a3a; background: #e8f4ec; }
figure.chart { margin: 1rem 0; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .9em; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section + section { break-before: page; page-break-before: always; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  tr, figure, .verdict, .proxy { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
}
"""


def _html_cell(tag: str, text: str, numeric: bool) -> str:
    return f'<{tag} class="num">{_e(text)}</{tag}>' if numeric else f"<{tag}>{_e(text)}</{tag}>"


def _html_table(table: Table) -> str:
    def row(cells: tuple[str, ...], tag: str = "td", css: str = "") -> str:
        attrs = f' class="{css}"' if css else ""
        cells_html = "".join(_html_cell(tag, c, i in table.numeric) for i, c in enumerate(cells))
        return f"<tr{attrs}>{cells_html}</tr>"

    body = [row(cells) for cells in table.rows]
    if table.total is not None:
        body.append(row(table.total, css="total"))
    return (
        f'<table id="{_e(table.id)}">\n<thead>{row(table.headers, "th")}</thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody>\n</table>"
    )


def _html_block(block: Block) -> str:
    match block:
        case Para(text=text, strong=strong, css=css):
            attrs = f' class="{_e(css)}"' if css else ""
            return f"<p{attrs}>{f'<strong>{_e(text)}</strong>' if strong else _e(text)}</p>"
        case Items(items=items, ordered=ordered):
            tag = "ol" if ordered else "ul"
            return f"<{tag}>" + "".join(f"<li>{_e(item)}</li>" for item in items) + f"</{tag}>"
        case Facts(rows=rows):
            cells = "".join(f'<tr><th scope="row">{_e(k)}</th><td>{_e(v)}</td></tr>' for k, v in rows)
            return f'<table class="facts"><tbody>{cells}</tbody></table>'
        case Table():
            return _html_table(block)
        case Heading(text=text):
            return f"<h3>{_e(text)}</h3>"
        case Chart(costs=costs):
            return (
                f'<figure class="chart">\n{chart_svg(costs)}\n<figcaption>Expected three-year cost of each '
                "included part; the whiskers span the low to high range.</figcaption>\n</figure>"
            )
    raise TypeError(block)


def to_html(report: FeasibilityReport) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(report.title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f'<header>\n<h1>{_e(report.title)}</h1>\n<p class="meta">Generated {report.generated} from the '
        f"template {_e(report.template)}.</p>\n</header>",
    ]
    for number, section in enumerate(_sections(report), 1):
        parts.append(f'<section id="{section.id}">\n<h2>{number}. {_e(section.title)}</h2>')
        parts += [_html_block(block) for block in section.blocks]
        parts.append("</section>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


# -- the chart -----------------------------------------------------------------------------------------

_SVG_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)


def chart_svg(costs: CostEstimate) -> str:
    """Horizontal bars of the expected cost of each included part, with low-high whiskers, as inline SVG.

    Uses a bare ``Figure`` (no pyplot): nothing global changes (no backend switch, no figure registry),
    and ``savefig(format="svg")`` picks matplotlib's SVG backend for this one figure.
    """
    import matplotlib  # only the HTML page needs it: imported here, not for Markdown or JSON
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    parts = [part for part in costs.parts if part.included]
    labels = [SHORT[part.category] for part in parts]
    expected = [float(part.expected) for part in parts]
    below = [float(part.expected - part.low) for part in parts]
    above = [float(part.high - part.expected) for part in parts]
    top = max((float(part.high) for part in parts), default=1.0) or 1.0

    fig = Figure(figsize=(7.5, 0.55 * len(parts) + 1.3))
    ax = fig.subplots()
    ax.barh(labels, expected, xerr=[below, above], color="#3b6ea5", ecolor="#1d232b", capsize=4, height=0.6)
    for y, part in enumerate(parts):
        ax.text(float(part.high) + top * 0.01, y, f"{part.expected:,.0f}", va="center", fontsize=8.5)
    ax.invert_yaxis()  # the same order as the cost table
    ax.set_xlim(0, top * 1.18)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.set_xlabel(f"Expected three-year cost, {costs.currency} (whiskers: low to high)")
    ax.grid(axis="x", color="#d5dae0", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()

    buffer = io.StringIO()
    # Real <text> elements (searchable, selectable, small) and stable ids instead of random ones.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "iso20k-sync-feasibility"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    fig.clear()
    svg = buffer.getvalue()
    return _SVG_METADATA.sub("", svg[svg.index("<svg") :]).strip()


# -- JSON ----------------------------------------------------------------------------------------------


def to_json(report: FeasibilityReport) -> str:
    """The report as data; amounts stay decimal strings."""
    return report.model_dump_json(indent=2) + "\n"

"""The feasibility scheme as a reader sees it: Markdown, the printable HTML page and JSON."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from iso20k_sync.feasibility import FeasibilityReport, OrganisationProfile, feasibility, load_profile
from iso20k_sync.feasibility.profile import Quote
from iso20k_sync.feasibility.render import to_html, to_json, to_markdown

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "organisation.example.yaml"
TODAY = date(2026, 12, 1)
SECTIONS = ["Summary", "Scope", "Management basis", "Benefits", "Resources and costs", "Recommendation"]


@pytest.fixture(scope="module")
def profile() -> OrganisationProfile:
    return load_profile(EXAMPLE)


def _report(profile: OrganisationProfile, **update: object) -> FeasibilityReport:
    report, _ = feasibility(profile.model_copy(update=update), "org.yaml", today=TODAY)
    return report


def _without(profile: OrganisationProfile, *parts: str) -> FeasibilityReport:
    return _report(profile, include=profile.include.model_copy(update=dict.fromkeys(parts, False)))


def _quoted(profile: OrganisationProfile) -> FeasibilityReport:
    quote = Quote(
        initial_audit=Decimal(14500),
        surveillance_audit=Decimal(4800),
        recertification_audit=Decimal(9600),
        body="Example Cert GmbH",
    )
    return _report(profile, quote=quote)


@pytest.fixture(scope="module")
def example(profile: OrganisationProfile) -> FeasibilityReport:
    return _report(profile)


@pytest.fixture(scope="module")
def tools_and_training_off(profile: OrganisationProfile) -> FeasibilityReport:
    return _without(profile, "tools", "training")


# -- reading the documents back ------------------------------------------------------------------------


def _md_cells(line: str) -> list[str]:
    """The cells of a Markdown table row (escaped pipes stay inside their cell), bold markers removed."""
    return [cell.strip().strip("*") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _md_tables(markdown: str) -> list[list[str]]:
    """Each table's raw lines, header and separator included."""
    tables: list[list[str]] = []
    previous = False
    for line in markdown.splitlines():
        is_row = line.startswith("|")
        if is_row and not previous:
            tables.append([])
        if is_row:
            tables[-1].append(line)
        previous = is_row
    return tables


def _md_table(markdown: str, first_header: str) -> list[list[str]]:
    """The table whose first header is ``first_header``: header row, then the body rows (no separator)."""
    for table in _md_tables(markdown):
        rows = [_md_cells(line) for line in table]
        if rows[0][0] == first_header:
            return [rows[0], *rows[2:]]
    raise AssertionError(f"no table headed {first_header!r}")


class _Page(HTMLParser):
    """Tables by id (rows of cell texts) and the visible text, as a browser would show them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._hidden = 0
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "svg"):
            self._hidden += 1
        elif tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id") or f"#{len(self.tables)}", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "svg"):
            self._hidden -= 1
        elif tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _visible(page: str) -> str:
    return " ".join(_Page(page).text)


def _svg(page: str) -> str:
    return page[page.index("<svg") : page.index("</svg>")]


def _svg_labels(page: str) -> list[str]:
    return re.findall(r"<text\b[^>]*>([^<]*)</text>", _svg(page))


def _amount(cell: str) -> Decimal | None:
    """A table amount (``1,234.56``), or None for the dash of a part that is not included."""
    if cell == "–":
        return None
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", cell), cell
    return Decimal(cell.replace(",", ""))


def _cost_rows(header: list[str], body: list[list[str]]) -> tuple[dict[str, list[str]], Decimal]:
    """Part rows by name, and the Total row's expected amount (checked to be the column's sum)."""
    expected = next(i for i, title in enumerate(header) if title.startswith("Expected"))
    *parts, total = body
    assert total[0] == "Total"
    amounts = [_amount(row[expected]) for row in parts]
    total_expected = _amount(total[expected])
    assert total_expected == sum((a for a in amounts if a is not None), Decimal(0))
    return {row[0]: row for row in parts}, total_expected


def _md_costs(report: FeasibilityReport) -> tuple[dict[str, list[str]], Decimal]:
    header, *body = _md_table(to_markdown(report), "Part")
    return _cost_rows(header, body)


def _html_costs(report: FeasibilityReport) -> tuple[dict[str, list[str]], Decimal]:
    header, *body = _Page(to_html(report)).tables["cost-table"]
    return _cost_rows(header, body)


# -- costs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["example", "tools_and_training_off"])
def test_the_parts_and_internal_effort_add_up_to_the_total_in_every_format(
    variant: str, request: pytest.FixtureRequest
) -> None:
    report: FeasibilityReport = request.getfixturevalue(variant)
    total = report.costs.expected

    for rows, total_row in (_md_costs(report), _html_costs(report)):
        assert len(rows) == 6  # the five parts plus internal effort
        assert total_row == total

    data = json.loads(to_json(report))["costs"]
    assert all(isinstance(part["expected"], str) for part in data["parts"])
    assert sum(Decimal(part["expected"]) for part in data["parts"]) == Decimal(data["expected"]) == total


def test_the_by_year_table_adds_up_to_the_three_year_total(example: FeasibilityReport) -> None:
    header, *body = _md_table(to_markdown(example), "Period")
    *years, three_years = body
    assert [row[0] for row in years] == [year.period for year in example.costs.by_year]
    assert three_years[0] == "Three years"
    assert sum(_amount(row[-1]) or 0 for row in years) == _amount(three_years[-1]) == example.costs.expected
    for column in range(1, len(header) - 1):  # every part's column adds up too
        assert sum(_amount(row[column]) or 0 for row in years) == _amount(three_years[column])


def test_a_part_switched_off_is_gone_everywhere(
    example: FeasibilityReport, tools_and_training_off: FeasibilityReport
) -> None:
    report = tools_and_training_off
    off = {"tools": "Tools and software", "training": "Training"}

    data = {part["category"]: part for part in json.loads(to_json(report))["costs"]["parts"]}
    for category in off:
        assert data[category]["included"] is False
        assert Decimal(data[category]["expected"]) == 0

    for rows, _ in (_md_costs(report), _html_costs(report)):
        for name in off.values():
            row = rows[f"{name} (not included)"]
            assert row[1:] == ["–", "–", "–"]  # a dash, not 0.00
        internal = next(row for name, row in rows.items() if name.startswith("Internal effort"))
        assert "not included" not in internal[0] and _amount(internal[2])

    by_year = _Page(to_html(report)).tables["by-year-table"][0]
    assert "Tools" not in by_year and "Training" not in by_year
    assert "Tools" not in _md_table(to_markdown(report), "Period")[0]

    # The chart has a bar (a label) for each included part only.
    assert {"Tools", "Training"} <= set(_svg_labels(to_html(example)))
    labels = set(_svg_labels(to_html(report)))
    assert {"Consulting", "Certification", "Materials", "Internal effort"} <= labels
    assert not {"Tools", "Training"} & labels


# -- certification -------------------------------------------------------------------------------------


def test_audit_fees_are_labelled_proxy_until_there_is_a_quote(
    profile: OrganisationProfile, example: FeasibilityReport
) -> None:
    for text in (to_markdown(example), _visible(to_html(example))):
        assert "PROXY estimate" in text
        assert "IAF MD5" in text
        assert "Replace them with the certification body's quote" in text
        assert example.costs.certification.check_quote in text
    assert json.loads(to_json(example))["costs"]["certification"]["basis"] == "proxy"

    quoted = _quoted(profile)
    for text in (to_markdown(quoted), _visible(to_html(quoted))):
        assert "proxy" not in text.lower()
        assert "quote from Example Cert GmbH" in text
        assert "14,500.00 USD" in text and "4,800.00 USD each" in text
        assert quoted.costs.certification.check_quote in text
    assert json.loads(to_json(quoted))["costs"]["certification"]["basis"] == "quote"


def test_certification_detail_and_person_days(example: FeasibilityReport) -> None:
    markdown = to_markdown(example)
    assert "- **Headcount (people in scope):** 120" in markdown
    assert "7 initial (Stage 1 and Stage 2), 2.33 per surveillance, 4.67 recertification" in markdown
    assert "1,750.00 USD per auditor-day plus 150.00 USD expenses" in markdown
    assert "- **Three-year total:** 33,433.33 USD" in markdown
    assert "761.2 person-days of own staff" in markdown
    assert "225 person-days of awareness and process training" in markdown


# -- the HTML page -------------------------------------------------------------------------------------


def test_the_html_page_is_self_contained_and_printable(example: FeasibilityReport) -> None:
    page = to_html(example)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<link" not in page and "<script" not in page and "@import" not in page
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page)
    assert page.count("<svg") == 1 and "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert "@media print" in page and "break-before: page" in page


def test_html_escapes_what_the_profile_says(profile: OrganisationProfile) -> None:
    report = _report(profile, name="A&B <Services>", services_in_scope=["Hosting <EU>", "R&D"])
    page = to_html(report)
    assert "A&amp;B &lt;Services&gt;" in page
    assert "Hosting &lt;EU&gt;, R&amp;D" in page
    assert "<Services>" not in page and "<EU>" not in page
    assert "A&B <Services>" in _visible(page)  # and the reader sees the name as written
    assert "<Services>" not in to_markdown(report)


@pytest.mark.parametrize(
    ("update", "verdict", "colour"),
    [
        ({"budget_limit": Decimal(700000)}, "proceed", "#1b7a3a"),
        ({}, "proceed_with_conditions", "#a65f00"),  # the high estimate is above the example's limit
        ({"organisation": {"sponsor_named": False}}, "proceed_with_conditions", "#a65f00"),
        ({"budget_limit": Decimal(1000)}, "not_now", "#b3261e"),
    ],
)
def test_the_verdict_is_bold_and_coloured(
    profile: OrganisationProfile, update: dict[str, object], verdict: str, colour: str
) -> None:
    if "organisation" in update:
        update = {"organisation": profile.organisation.model_copy(update=update["organisation"])}
    report = _report(profile, **update)
    assert report.recommendation.verdict == verdict
    headline = report.recommendation.headline
    page = to_html(report)
    assert f'<p class="verdict verdict-{verdict}"><strong>{headline}</strong></p>' in page
    assert re.search(rf"\.verdict-{verdict} \{{ color: {colour};", page)
    assert to_markdown(report).count(f"**{headline}**") == 2  # in the summary and the recommendation
    if verdict == "proceed_with_conditions":
        assert "### Conditions" in to_markdown(report)


# -- Markdown and the document as a whole --------------------------------------------------------------


def test_markdown_tables_are_well_formed(profile: OrganisationProfile, example: FeasibilityReport) -> None:
    goals = profile.benefits.model_copy(update={"development_goals": "Win tenders | grow <fast> & more"})
    reports = [
        example,
        _without(profile, "tools", "training", "materials", "consulting"),
        _quoted(profile),
        _report(profile, benefits=goals),
    ]
    for report in reports:
        tables = _md_tables(to_markdown(report))
        assert len(tables) == 7  # scores, gaps, risks, benefits, costs, by year, timeline
        for table in tables:
            widths = {len(_md_cells(line)) for line in table}
            assert len(widths) == 1, table
            assert re.fullmatch(r"\|( -{3}:? \|)+", table[1])
    assert "Win tenders \\| grow \\<fast\\> & more" in to_markdown(reports[-1])


def test_the_sections_come_in_order(example: FeasibilityReport) -> None:
    markdown = to_markdown(example)
    assert markdown.startswith(f"# {example.title}\n\nGenerated 2026-12-01 from the template ")
    assert re.findall(r"^## \d\. (.+)$", markdown, re.MULTILINE) == SECTIONS
    page = to_html(example)
    assert re.findall(r"<h2>\d\. ([^<]+)</h2>", page) == SECTIONS
    assert example.template in _visible(page)


def test_the_summary_gives_cost_range_and_certificate_forecast(example: FeasibilityReport) -> None:
    markdown = to_markdown(example)
    summary = markdown[markdown.index("## 1.") : markdown.index("## 2.")]
    assert "528,208.21 USD (range 425,939.15 to 675,915.72 USD)" in summary
    assert "2028-02-18, 42 days before the target 2028-03-31" in summary


def test_the_budget_limit_is_shown_beside_the_three_year_cost(
    profile: OrganisationProfile, example: FeasibilityReport
) -> None:
    limit = "650,000.00 USD: the expected cost is within it, the high estimate exceeds it by 25,915.72 USD"
    markdown = to_markdown(example)
    summary = markdown[markdown.index("## 1.") : markdown.index("## 2.")]
    assert f"- **Budget limit:** {limit}" in summary
    assert summary.index("Expected three-year cost") < summary.index("Budget limit")
    costs = markdown[markdown.index("## 5.") : markdown.index("## 6.")]
    assert f"- **Budget limit (three years):** {limit}" in costs
    assert f"Budget limit {limit}" in _visible(to_html(example)).replace("  ", " ")
    assert json.loads(to_json(example))["scope"]["budget_limit"] == "650000"

    assert "- **Budget limit:** not set" in to_markdown(_report(profile, budget_limit=None))
    within = to_markdown(_report(profile, budget_limit=Decimal(700000)))
    assert "- **Budget limit:** 700,000.00 USD: the whole range is within it" in within
    over = to_markdown(_report(profile, budget_limit=Decimal(500000)))
    assert "- **Budget limit:** 500,000.00 USD: the expected cost exceeds it by 28,208.21 USD" in over


def test_the_timeline_reads_in_date_order(example: FeasibilityReport) -> None:
    _, *gates = _Page(to_html(example)).tables["timeline-table"]
    dates = [date.fromisoformat(when) for _, when in gates]
    assert dates == sorted(dates)
    assert len(gates) == len(example.recommendation.timeline)
    assert gates[0] == ["go/no-go decision by top management", "2027-01-29"]


def test_json_is_the_report_itself(example: FeasibilityReport) -> None:
    text = to_json(example)
    assert text.endswith("}\n")
    assert FeasibilityReport.model_validate_json(text) == example
    assert json.loads(text)["costs"]["expected"] == "528208.21"

"""The feasibility scheme's numbers and advice, and that the plan's budget agrees with them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iso20k_sync.cli import app
from iso20k_sync.errors import InputError
from iso20k_sync.feasibility import feasibility, load_profile
from iso20k_sync.feasibility.profile import AreaAnswers, Level, OrganisationProfile, Quote
from iso20k_sync.template.model import CostCategory

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "organisation.example.yaml"
runner = CliRunner()
D = Decimal


@pytest.fixture
def profile() -> OrganisationProfile:
    return load_profile(EXAMPLE)


def build(profile: OrganisationProfile, **changes):
    return feasibility(profile.model_copy(update=changes), "org.yaml", today=date(2026, 12, 1))


def test_certification_follows_the_proxy_table_and_the_documented_ratios(profile):
    report, plan = build(profile)
    cert = report.costs.certification
    assert cert.basis == "proxy" and cert.source.startswith("PROXY: IAF MD5")
    assert cert.initial_audit_days == D(7)  # 120 people: band 86-125
    assert cert.surveillance_days == D("2.33") and cert.recertification_days == D("4.67")
    per_day = D(1750 + 150)
    assert cert.initial_fee == 7 * per_day
    assert cert.surveillance_fee == (D(7) / 3 * per_day).quantize(D("0.01"))
    assert cert.recertification_fee == (D(7) * 2 / 3 * per_day).quantize(D("0.01"))
    assert cert.three_year_total == plan.budget.by_category[CostCategory.certification]


@pytest.mark.parametrize(("staff", "days"), [(125, 7), (126, 8), (2025, 15), (2026, 16)])
def test_audit_days_at_the_band_edges(profile, staff, days):
    report, _ = build(profile, staff_in_scope=staff)
    assert report.costs.certification.initial_audit_days == days


def test_a_real_quote_replaces_the_proxy_everywhere(profile):
    quote = {
        "initial_audit": D(14500),
        "surveillance_audit": D(4800),
        "recertification_audit": D(9600),
        "certificate_fee_per_year": D(0),
        "body": "Example Cert",
    }
    report, plan = build(profile, quote=Quote(**quote))
    cert = report.costs.certification
    assert cert.basis == "quote" and "PROXY" not in cert.source
    assert plan.budget.by_category[CostCategory.certification] == D(14500 + 2 * 4800 + 9600)
    assert cert.three_year_total == D(33700) and cert.certificate_fees == 0
    certification = next(p for p in report.costs.parts if p.category is CostCategory.certification)
    assert certification.low == certification.expected == certification.high  # a quote has no range


def test_the_parts_sum_to_the_total_and_the_plan_budget_agrees(profile, tmp_path):
    report, plan = build(profile)
    assert sum(p.expected for p in report.costs.parts) == report.costs.expected == plan.budget.total
    assert sum(y.total for y in report.costs.by_year) == report.costs.expected
    assert report.costs.low < report.costs.expected < report.costs.high
    shown = runner.invoke(app, ["plan", "--org", str(EXAMPLE), "-f", "json"])
    assert shown.exit_code == 0, shown.output
    assert D(json.loads(shown.stdout)["budget"]["total"]) == report.costs.expected


def test_switching_a_part_off_removes_it_from_the_estimate_and_the_plan(profile):
    include = profile.include.model_copy(update={"tools": False, "training": False})
    report, plan = build(profile, include=include)
    parts = {p.category: p for p in report.costs.parts}
    for category in (CostCategory.tools, CostCategory.training):
        assert not parts[category].included and parts[category].expected == 0
        assert plan.budget.by_category[category] == 0
        assert all(category not in t.costs for t in plan.tasks)
    assert sorted(plan.excluded_categories) == [CostCategory.tools, CostCategory.training]
    full, _ = build(profile)
    assert report.costs.expected < full.costs.expected


def test_without_a_consultant_there_is_no_consulting_fee_and_more_internal_effort(profile):
    report, _ = build(profile, use_consultant=False)
    full, _ = build(profile)
    parts = {p.category: p for p in report.costs.parts}
    assert parts[CostCategory.consulting].expected == 0 and not parts[CostCategory.consulting].included
    assert report.costs.internal_person_days > full.costs.internal_person_days
    assert any(r.name == "Stage 1 failure" for r in report.management_basis.risks)


def test_a_mature_organisation_costs_less_and_certifies_sooner(profile):
    mature = {area: "conforming" for area in profile.maturity}
    immature = {area: "initial" for area in profile.maturity}
    good, _ = build(profile, maturity=mature, management_systems=["iso27001"])
    poor, _ = build(profile, maturity=immature, management_systems=[])
    assert good.costs.expected < poor.costs.expected
    assert good.scope.certificate_forecast < poor.scope.certificate_forecast
    assert good.management_basis.overall > poor.management_basis.overall
    assert any(r.name == "Low process maturity" for r in poor.management_basis.risks)
    assert good.management_basis.gaps == []


def test_recommendations(profile):
    proceed, _ = build(profile, budget_limit=D(700_000))  # above the high estimate
    assert proceed.recommendation.verdict == "proceed"
    assert proceed.recommendation.headline == "Proceed with ISO/IEC 20000-1 certification as planned."
    assert any("Approve the budget" in d for d in proceed.recommendation.decisions)
    unsponsored, _ = build(
        profile, organisation=profile.organisation.model_copy(update={"sponsor_named": False})
    )
    assert unsponsored.recommendation.verdict == "proceed_with_conditions"
    assert any(c.startswith("No sponsor in top management") for c in unsponsored.recommendation.conditions)
    rushed, _ = build(profile, target_certification=date(2027, 6, 30))
    names = {r.name for r in rushed.management_basis.risks}
    assert {"Compressed timeline", "Too little trial-operation evidence"} <= names
    too_dear, _ = build(profile, budget_limit=D(100000))
    assert too_dear.recommendation.verdict == "not_now"
    assert "exceeds the budget limit" in too_dear.recommendation.reasons[0]


def test_a_range_crossing_the_budget_limit_is_a_cost_risk(profile):
    # the example: expected 528,208.21 within the limit of 650,000, high 675,915.72 above it
    report, _ = build(profile)
    assert report.costs.expected < profile.budget_limit < report.costs.high
    advice = report.recommendation
    assert advice.verdict == "proceed_with_conditions"
    risk = "the high estimate 675,916 USD exceeds the budget limit 650,000 USD"
    assert advice.headline == f"Proceed with a cost risk: {risk}."
    assert f"{risk}; the expected 528,208 USD is within it" in advice.reasons
    assert advice.conditions == [
        f"Cost risk: {risk}. Hold a contingency of 25,916 USD, or agree beforehand which parts give way if "
        "costs run high."
    ]
    assert report.scope.budget_limit == D(650_000)

    unsponsored, _ = build(
        profile, organisation=profile.organisation.model_copy(update={"sponsor_named": False})
    )
    headline = unsponsored.recommendation.headline
    assert headline == f"Proceed with a cost risk ({risk}), on the conditions below."
    assert len(unsponsored.recommendation.conditions) == 2

    unlimited, _ = build(profile, budget_limit=None)
    assert unlimited.recommendation.verdict == "proceed" and unlimited.scope.budget_limit is None


def test_benefits_use_the_numbers_given_and_stay_qualitative_otherwise(profile):
    report, _ = build(profile)
    quantified = {b.axis: b for b in report.benefits if b.kind == "quantified"}
    # 600 h a month, 15 % fewer, at 450 a day of 8 h
    assert quantified["Improving process efficiency"].annual_value == D("60750.00")
    assert quantified["Enhancing profitability"].annual_value == D(800000)
    bare, _ = build(
        profile,
        benefits=profile.benefits.model_copy(
            update={"tender_revenue_per_year": None, "incident_hours_per_month": None}
        ),
    )
    assert all(b.kind == "qualitative" for b in bare.benefits)
    assert len(bare.benefits) == 6


def test_a_questionnaire_gives_the_level():
    assert AreaAnswers(documented=False, followed=False, measured=False).level is Level.not_addressed
    assert AreaAnswers(documented=True, followed=False, measured=False).level is Level.initial
    assert AreaAnswers(documented=True, followed=True, measured=False).level is Level.defined
    assert AreaAnswers(documented=True, followed=True, measured=True).level is Level.conforming


def test_a_bad_profile_names_the_field_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "org.yaml"
    text = (
        EXAMPLE.read_text()
        .replace("staff_in_scope: 120", "staff_in_scope: lots")
        .replace("  assurance: initial ", "  assurance: sometimes ")
    )
    bad.write_text(text)
    with pytest.raises(InputError) as caught:
        load_profile(bad)
    message = str(caught.value)
    line = 1 + next(n for n, row in enumerate(text.splitlines()) if row.startswith("staff_in_scope:"))
    assert f"{bad}:{line}: staff_in_scope: Input should be a valid integer" in message
    assert (
        "maturity.assurance: Input should be 'not_addressed', 'initial', 'defined' or 'conforming'" in message
    )
    target = tmp_path / "feasibility.html"
    result = runner.invoke(app, ["feasibility", "--org", str(bad), "--format", "html", "-o", str(target)])
    assert result.exit_code == 2
    assert "staff_in_scope" in result.stderr
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["org.yaml"]


def test_a_profile_in_another_currency_is_refused(profile):
    with pytest.raises(InputError, match="the template's amounts are in USD"):
        build(profile, currency="EUR")


def test_a_configured_plan_can_take_its_numbers_from_the_profile(tmp_path, profile):
    from iso20k_sync.config import load_config
    from iso20k_sync.engine.plans import plan_from_config

    (tmp_path / "org.yaml").write_text(EXAMPLE.read_text())
    path = tmp_path / "iso20k-sync.yaml"
    path.write_text(
        "plans:\n  - name: acme\n    organisation: org.yaml\n    start: 2027-01-04\n"
        "    tracker: {kind: workbook, path: acme.xlsx}\n"
    )
    config = load_config(path)
    seeded = plan_from_config(config, config.plans[0])
    report, _ = build(profile)
    assert seeded.budget.total == report.costs.expected
    path.write_text(
        path.read_text().replace("start: 2027-01-04", "start: 2027-01-04\n    parameters: {maturity: low}")
    )
    config = load_config(path)
    with pytest.raises(InputError, match="give parameters or organisation, not both"):
        plan_from_config(config, config.plans[0])

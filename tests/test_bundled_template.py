"""The bundled ISO/IEC 20000-1:2018 programme: complete, costed, and scaling the way a consultant expects."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from iso20k_sync.errors import InputError
from iso20k_sync.instantiate import instantiate
from iso20k_sync.plan import Plan, PlannedTask
from iso20k_sync.template import PlanTemplate, bundled_template_ids, resolve_template
from iso20k_sync.template.model import CostCategory

TEMPLATE_ID = "iso20000-1-2018"
START = date(2027, 1, 4)

# Every clause and sub-clause of ISO/IEC 20000-1:2018 clauses 4-10 (shared/reference/iso20000.md).
CLAUSES = (
    "4.1", "4.2", "4.3", "4.4",
    "5.1", "5.2", "5.2.1", "5.2.2", "5.3",
    "6.1", "6.2", "6.3",
    "7.1", "7.2", "7.3", "7.4", "7.5", "7.5.1", "7.5.2", "7.5.3", "7.5.4", "7.6",
    "8.1",
    "8.2", "8.2.1", "8.2.2", "8.2.3", "8.2.4", "8.2.5", "8.2.6",
    "8.3", "8.3.1", "8.3.2", "8.3.3", "8.3.4", "8.3.4.1", "8.3.4.2",
    "8.4", "8.4.1", "8.4.2", "8.4.3",
    "8.5", "8.5.1", "8.5.1.1", "8.5.1.2", "8.5.1.3", "8.5.2", "8.5.3",
    "8.6", "8.6.1", "8.6.2", "8.6.3",
    "8.7", "8.7.1", "8.7.2", "8.7.3", "8.7.3.1", "8.7.3.2", "8.7.3.3",
    "9.1", "9.2", "9.3", "9.4",
    "10.1", "10.2",
)  # fmt: skip

# Records an auditor expects, by clause (shared/reference/iso20000.md).
RECORD_CLAUSES = (
    "7.2", "8.2.6", "8.3.2", "8.3.4.1", "8.5.1.2", "8.6.1", "8.6.2", "8.6.3",
    "8.7.1", "8.7.2", "8.7.3.3", "9.1", "9.2", "9.3", "10.1", "10.2",
)  # fmt: skip

# Phases in programme order, each with its go/no-go gate milestone (ids are tracker keys).
GATES = {
    "feasibility": "go-no-go",
    "initiation": "kickoff",
    "gap-assessment": "gap-report-accepted",
    "sms-design": "sms-documented",
    "tooling": "itsm-tool-ready",
    "training": "staff-trained",
    "trial-operation": "trial-operation-complete",
    "internal-audit": "internal-audit-complete",
    "management-review": "management-review-complete",
    "cb-selection": "cb-contracted",
    "stage1": "stage1-complete",
    "corrective-actions": "ready-for-stage2",
    "stage2": "stage2-complete",
    "certificate": "certificate-issued",
    "surveillance": "recertification-complete",
}

# A small organisation with mature processes and an ISMS, and a large one starting from scratch.
SMALL_MATURE = dict(staff_in_scope=20, staff_to_train=20, maturity="high", management_system="iso27001")
LARGE_IMMATURE = dict(staff_in_scope=2000, staff_to_train=2000, maturity="low", management_system="none")


@pytest.fixture(scope="module")
def template() -> PlanTemplate:
    return resolve_template(TEMPLATE_ID)


@pytest.fixture(scope="module")
def default_plan(template: PlanTemplate) -> Plan:
    return instantiate(template, START)


def make(template: PlanTemplate, **parameters: object) -> Plan:
    return instantiate(template, START, parameters=parameters)


def task(plan: Plan, task_id: str) -> PlannedTask:
    return next(t for t in plan.tasks if t.id == task_id)


def milestone_date(plan: Plan, milestone_id: str) -> date:
    return next(m.date for m in plan.milestones if m.id == milestone_id)


def certification_cost(plan: Plan, *task_ids: str) -> Decimal:
    costs = (task(plan, i).costs.get(CostCategory.certification, Decimal(0)) for i in task_ids)
    return sum(costs, Decimal(0))


def months_to_certificate(plan: Plan) -> float:
    return (milestone_date(plan, "certificate-issued") - plan.start).days / 30.44


def role_effort(plan: Plan, role_id: str) -> Decimal:
    return next(r.effort for r in plan.roles if r.id == role_id)


def internal_effort(plan: Plan) -> Decimal:
    return sum((r.effort for r in plan.roles if r.category == CostCategory.internal), Decimal(0))


# -- loading ------------------------------------------------------------------------------------------


def test_the_template_is_bundled_and_instantiates_with_its_defaults(template, default_plan):
    assert TEMPLATE_ID in bundled_template_ids()
    assert template.id == TEMPLATE_ID
    assert default_plan.currency == "USD"
    assert default_plan.start == START
    assert len(default_plan.tasks) >= 60
    assert default_plan.finish > START + timedelta(days=3 * 365)  # runs through recertification


def test_instantiating_prints_nothing(template, capsys):
    instantiate(template, date(2027, 1, 4))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_parameters_a_user_sets_are_described_with_sensible_defaults(template):
    params = template.parameters
    required = {
        "staff_in_scope", "staff_to_train", "maturity", "management_system", "use_consultant", "itsm_tool",
        "internal_day_rate", "consultant_day_rate", "auditor_day_rate",
    }  # fmt: skip
    assert required <= params.keys()
    assert all(p.description for p in params.values())
    assert params["staff_in_scope"].default == 100
    assert params["auditor_day_rate"].default == 1750
    assert params["use_consultant"].default is True
    assert params["maturity"].choices == ["low", "medium", "high"]
    assert params["management_system"].choices == ["none", "iso9001", "iso27001", "both"]
    assert params["itsm_tool"].choices == ["fit", "needs_change", "needs_purchase"]


def test_a_wrong_choice_is_refused_naming_the_parameter_and_the_choices(template):
    with pytest.raises(InputError) as caught:
        make(template, maturity="extreme")
    assert "maturity" in str(caught.value)
    assert "low, medium, high" in str(caught.value)


# -- coverage of the standard ---------------------------------------------------------------------------


def test_every_clause_and_sub_clause_of_4_to_10_is_planned(template):
    referenced = {clause for t in template.tasks() for clause in t.clauses}
    missing = [c for c in CLAUSES if c not in referenced]
    assert not missing, f"clauses without a task: {missing}"


def test_the_service_management_plan_has_its_own_task_and_deliverable(template):
    tasks = [t for t in template.tasks() if "8.1" in t.clauses]
    assert any("Service management plan" in t.deliverables for t in tasks), "no service management plan (8.1)"


def test_gap_assessment_rates_clauses_4_to_10_on_the_four_level_scale(template):
    phase = next(p for p in template.phases if p.id == "gap-assessment")
    rated = {c.split(".")[0] for t in phase.tasks for c in t.clauses}
    assert rated == {"4", "5", "6", "7", "8", "9", "10"}
    text = " ".join(d for t in phase.tasks for d in t.deliverables)
    assert "not addressed / initial / defined but inconsistent / conforming" in text


def test_every_record_an_auditor_expects_is_produced_before_stage_2(default_plan):
    stage2_start = task(default_plan, "stage2-audit").start
    produced = " ".join(d for t in default_plan.tasks if t.finish <= stage2_start for d in t.deliverables)
    missing = [c for c in RECORD_CLAUSES if f"({c})" not in produced]
    assert not missing, f"records not produced before Stage 2: {missing}"


# -- phases, gates and the programme logic ------------------------------------------------------------


def test_phases_come_in_programme_order_and_each_gate_is_a_milestone(template, default_plan):
    assert [p.id for p in template.phases] == list(GATES)
    milestones = {m.id: m.phase for m in default_plan.milestones}
    for phase, gate in GATES.items():
        assert milestones.get(gate) == phase, f"phase {phase} has no gate milestone {gate}"


def test_gates_are_passed_in_a_sensible_order(default_plan):
    order = [
        "go-no-go",
        "kickoff",
        "gap-report-accepted",
        "sms-documented",
        "trial-operation-start",
        "internal-audit-complete",
        "management-review-complete",
        "stage1-complete",
        "stage2-complete",
        "certificate-issued",
        "surveillance-1-complete",
        "surveillance-2-complete",
        "recertification-complete",
    ]
    dates = [milestone_date(default_plan, m) for m in order]
    assert dates == sorted(dates)
    assert len(set(dates)) == len(dates)
    go_live = milestone_date(default_plan, "trial-operation-start")
    assert milestone_date(default_plan, "itsm-tool-ready") <= go_live
    assert milestone_date(default_plan, "cb-contracted") < task(default_plan, "stage1-audit").start


@pytest.mark.parametrize("parameters", [{}, SMALL_MATURE, LARGE_IMMATURE], ids=["default", "small", "large"])
def test_trial_operation_runs_three_months_with_audit_and_review_inside(template, parameters):
    plan = make(template, **parameters)
    operate = task(plan, "operate-sms")
    assert operate.duration >= 60
    assert operate.start > milestone_date(plan, "trial-operation-start") - timedelta(days=1)
    end = milestone_date(plan, "trial-operation-complete")
    for inside in ("internal-audit-complete", "management-review-complete"):
        assert operate.start < milestone_date(plan, inside) <= end
    # Practitioners are trained before the SMS goes live; every training is done before the period ends.
    assert task(plan, "process-training").finish <= milestone_date(plan, "trial-operation-start")
    assert milestone_date(plan, "staff-trained") <= milestone_date(plan, "trial-operation-complete")


def test_audits_follow_readiness(default_plan):
    stage1 = task(default_plan, "stage1-audit")
    stage2 = task(default_plan, "stage2-audit")
    assert stage1.start > milestone_date(default_plan, "management-review-complete")
    assert stage2.start > milestone_date(default_plan, "trial-operation-complete")
    assert stage2.start > task(default_plan, "stage1-findings").finish
    assert milestone_date(default_plan, "certificate-issued") > task(default_plan, "stage2-nc-closure").finish


def test_certification_body_selection_checks_what_the_quote_covers(template):
    phase = next(p for p in template.phases if p.id == "cb-selection")
    texts = [" ".join([t.name, t.description, *t.deliverables]).lower() for t in phase.tasks]
    assert any(
        "surveillance" in text and "recertification" in text and "certificate management fee" in text
        for text in texts
    )


def test_surveillance_and_recertification_follow_the_three_year_cycle(default_plan):
    certificate = milestone_date(default_plan, "certificate-issued")
    audit_ids = ("surveillance-1-audit", "surveillance-2-audit", "recertification-audit")
    audits = [task(default_plan, i) for i in audit_ids]
    for audit in audits:
        assert audit.costs.get(CostCategory.certification, 0) > 0, audit.id
    first, second, recertification = audits
    assert certificate < first.start
    assert first.finish <= certificate + timedelta(days=365)  # within 12 months of the decision
    assert first.finish >= certificate + timedelta(days=300)  # but not needlessly early
    assert timedelta(days=330) <= second.start - first.start <= timedelta(days=400)
    assert timedelta(days=330) <= recertification.start - second.start <= timedelta(days=400)
    expiry = certificate + timedelta(days=3 * 365)
    assert milestone_date(default_plan, "recertification-complete") < expiry


# -- costs --------------------------------------------------------------------------------------------


def test_every_cost_category_is_budgeted_with_the_defaults(default_plan):
    for category in CostCategory:
        assert default_plan.budget.by_category[category] > 0, category
    assert default_plan.budget.total == sum(default_plan.budget.by_category.values())


def test_without_a_consultant_there_is_no_consulting_cost_and_the_team_works_more(template, default_plan):
    plan = make(template, use_consultant=False)
    assert plan.budget.by_category[CostCategory.consulting] == 0
    assert all(r.effort == 0 for r in plan.roles if r.category == CostCategory.consulting)
    assert internal_effort(plan) > internal_effort(default_plan)
    internal = CostCategory.internal
    assert plan.budget.by_category[internal] > default_plan.budget.by_category[internal]
    assert milestone_date(plan, "certificate-issued") >= milestone_date(default_plan, "certificate-issued")


@pytest.mark.parametrize(("staff", "initial_days"), [(20, 3), (100, 7), (2000, 15)])
def test_certification_fees_follow_the_audit_days_for_the_headcount(template, staff, initial_days):
    plan = make(template, staff_in_scope=staff, auditor_day_rate=1750, auditor_expenses_per_day=0)
    rate = Decimal(1750)
    certificate_fee = plan.parameters["certificate_fee_per_year"]
    assert certification_cost(plan, "stage1-audit", "stage2-audit") == initial_days * rate
    for audit in ("surveillance-1-audit", "surveillance-2-audit"):
        fee = certification_cost(plan, audit) - certificate_fee
        assert fee == (initial_days * rate / 3).quantize(Decimal("0.01"))
    fee = certification_cost(plan, "recertification-audit") - certificate_fee
    assert fee == (initial_days * rate * 2 / 3).quantize(Decimal("0.01"))


def test_all_staff_are_trained_on_the_project_budget(template):
    few = make(template, staff_to_train=50)
    many = make(template, staff_to_train=500)
    assert role_effort(many, "staff") == 10 * role_effort(few, "staff") > 0
    assert many.budget.by_category[CostCategory.training] > few.budget.by_category[CostCategory.training]
    assert many.budget.by_category[CostCategory.internal] > few.budget.by_category[CostCategory.internal]


def test_the_itsm_tool_situation_drives_the_tool_budget(template):
    tools = {
        choice: make(template, itsm_tool=choice).budget.by_category[CostCategory.tools]
        for choice in ("fit", "needs_change", "needs_purchase")
    }
    assert tools["fit"] < tools["needs_change"] < tools["needs_purchase"]


# -- scaling --------------------------------------------------------------------------------------------


def test_a_bigger_scope_takes_longer_and_costs_more(template):
    small = make(template, staff_in_scope=20, staff_to_train=20)
    large = make(template, staff_in_scope=2000, staff_to_train=2000)
    assert large.duration > small.duration
    assert milestone_date(large, "certificate-issued") > milestone_date(small, "certificate-issued")
    assert large.budget.total > 2 * small.budget.total
    assert internal_effort(large) > internal_effort(small)
    for category in CostCategory:
        assert large.budget.by_category[category] >= small.budget.by_category[category], category


@pytest.mark.parametrize(
    ("harder", "easier"),
    [
        ({"maturity": "low"}, {"maturity": "high"}),
        ({"management_system": "none"}, {"management_system": "iso27001"}),
        ({"management_system": "none"}, {"management_system": "iso9001"}),
    ],
    ids=["maturity", "iso27001", "iso9001"],
)
def test_maturity_and_an_existing_management_system_shorten_and_cheapen_the_plan(template, harder, easier):
    hard = make(template, **harder)
    easy = make(template, **easier)
    assert easy.duration < hard.duration
    assert milestone_date(easy, "certificate-issued") < milestone_date(hard, "certificate-issued")
    assert easy.budget.total < hard.budget.total
    assert internal_effort(easy) < internal_effort(hard)
    assert easy.budget.by_category[CostCategory.internal] < hard.budget.by_category[CostCategory.internal]


def test_time_to_certificate_is_realistic(template, default_plan):
    assert 9 <= months_to_certificate(make(template, **SMALL_MATURE)) <= 12
    assert 12 <= months_to_certificate(default_plan) <= 18
    assert 16 <= months_to_certificate(make(template, **LARGE_IMMATURE)) <= 24


def test_staff_to_train_follows_staff_in_scope_unless_set(template):
    def training(**parameters: object) -> Decimal:
        return instantiate(template, START, parameters=parameters).budget.by_category[CostCategory.training]

    everyone = training(staff_in_scope=400, staff_to_train=400)
    assert training(staff_in_scope=400) == everyone > training(staff_in_scope=400, staff_to_train=100)


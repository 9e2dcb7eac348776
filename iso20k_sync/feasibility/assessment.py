"""Management-basis assessment: how ready the organisation is, the gaps that drive effort, the risks."""

from __future__ import annotations

from datetime import date
from statistics import mean
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..plan import Plan
from .profile import AREAS, Level, OrganisationProfile

RiskLevel = Literal["high", "medium", "low"]
SYSTEM_SCORE = {
    frozenset(): 0,
    frozenset({"iso9001"}): 60,
    frozenset({"iso27001"}): 70,
    frozenset({"iso9001", "iso27001"}): 85,
}


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Score(_Out):
    name: str
    score: int
    """0 (nothing to build on) to 100 (ready)."""
    basis: str


class Gap(_Out):
    area: str
    clause: str
    level: str
    note: str


class Risk(_Out):
    name: str
    level: RiskLevel
    why: str
    countermeasure: str


class ManagementBasis(_Out):
    itil_foundation: Score
    organisation: Score
    management_system: Score
    overall: int
    overall_basis: str = "weighted: ITIL foundation 50 %, organisation 25 %, management system 25 %"
    gaps: list[Gap]
    risks: list[Risk]


def assess(profile: OrganisationProfile, plan: Plan, certificate: date | None) -> ManagementBasis:
    levels = profile.levels()
    itil = round(mean(int(level) for level in levels.values()) / 3 * 100)
    org = profile.organisation
    facts = {
        "a sponsor in top management": org.sponsor_named,
        "named process owners": org.process_owners_named,
        "a service desk": org.service_desk,
        "a PMO": org.pmo,
    }
    organisation = round(sum(facts.values()) / len(facts) * 100)
    systems = frozenset(profile.management_systems)
    scores = (
        Score(
            name="ITIL implementation foundation",
            score=itil,
            basis="average clause 8 maturity: " + ", ".join(f"{a} {levels[a].name}" for a in AREAS),
        ),
        Score(
            name="Organisational structure",
            score=organisation,
            basis="has "
            + (", ".join(k for k, v in facts.items() if v) or "none of the usual structures")
            + (
                "; lacks " + ", ".join(k for k, v in facts.items() if not v)
                if not all(facts.values())
                else ""
            ),
        ),
        Score(
            name="Current management system",
            score=SYSTEM_SCORE[systems],
            basis=(
                "certified "
                + " and ".join(s.upper().replace("ISO", "ISO ") for s in sorted(systems))
                + ": clauses 4-7, 9 and 10 are shared"
            )
            if systems
            else "no certified management system",
        ),
    )
    return ManagementBasis(
        itil_foundation=scores[0],
        organisation=scores[1],
        management_system=scores[2],
        overall=round(0.5 * scores[0].score + 0.25 * scores[1].score + 0.25 * scores[2].score),
        gaps=[_gap(area, level) for area, level in levels.items() if level < Level.conforming],
        risks=_risks(profile, plan, certificate, levels),
    )


def _gap(area: str, level: Level) -> Gap:
    notes = {
        Level.not_addressed: "to be designed, documented, implemented and evidenced from scratch",
        Level.initial: "exists informally: to be documented and made consistent, with records",
        Level.defined: "documented but applied inconsistently: to be embedded and measured",
    }
    clause, _, name = AREAS[area].partition(" ")
    return Gap(area=name, clause=clause, level=level.name.replace("_", " "), note=notes[level])


def _risks(
    profile: OrganisationProfile, plan: Plan, certificate: date | None, levels: dict[str, Level]
) -> list[Risk]:
    risks = []
    average = mean(int(level) for level in levels.values())
    if not profile.management_systems:
        risks.append(
            Risk(
                name="No management system to build on",
                level="medium",
                why="clauses 4-7, 9 and 10 (context, leadership, planning, support, evaluation, "
                "improvement) start "
                "from nothing",
                countermeasure="start document control and the SMS plan early; use the consultant's "
                "templates",
            )
        )
    missing = [AREAS[a] for a, level in levels.items() if level is Level.not_addressed]
    if missing or average < 1.25:
        risks.append(
            Risk(
                name="Low process maturity",
                level="high",
                why="not addressed: " + ", ".join(missing)
                if missing
                else "most clause 8 processes are informal",
                countermeasure="do the gap assessment before committing dates; pilot the weakest "
                "processes first",
            )
        )
    stage2 = next((t.finish for t in plan.tasks if t.id == "stage2-complete"), None)
    if profile.target_certification and certificate and profile.target_certification < certificate:
        late = (certificate - profile.target_certification).days
        risks.append(
            Risk(
                name="Compressed timeline",
                level="high" if late > 60 else "medium",
                why=f"the target {profile.target_certification} is {late} days before the realistic "
                "certificate date "
                f"{certificate}; a compressed project gives an SMS that is documented but not operating",
                countermeasure="move the target, or add people to design and documentation; never "
                "shorten trial "
                "operation",
            )
        )
        if stage2 and profile.target_certification < stage2:
            risks.append(
                Risk(
                    name="Too little trial-operation evidence",
                    level="high",
                    why="certifying by the target would put Stage 2 before three months of records, an "
                    "internal "
                    "audit and a management review",
                    countermeasure="keep at least three months of trial operation with one internal "
                    "audit and one "
                    "management review before Stage 2",
                )
            )
    if not profile.consultant or average < 2:
        level: Literal["high", "medium"] = "high" if not profile.consultant and average < 2 else "medium"
        risks.append(
            Risk(
                name="Stage 1 failure",
                level=level,
                why="without outside experience"
                if not profile.consultant
                else "with processes still maturing",
                countermeasure="run the internal audit and a readiness review before Stage 1; ask the "
                "certification "
                "body for a pre-assessment; a failed Stage 1 costs re-audit fees and months",
            )
        )
    if not profile.organisation.sponsor_named:
        risks.append(
            Risk(
                name="No sponsor in top management",
                level="high",
                why="ISO/IEC 20000-1 clause 5 requires leadership and commitment; auditors interview "
                "top management",
                countermeasure="appoint a sponsor before kick-off",
            )
        )
    if profile.itsm_tool == "needs_purchase":
        risks.append(
            Risk(
                name="ITSM tool to be bought",
                level="medium",
                why="selection, purchase and configuration must finish before trial operation starts",
                countermeasure="start tool selection right after the gap assessment; configure records first",
            )
        )
    return sorted(risks, key=lambda r: ("high", "medium", "low").index(r.level))

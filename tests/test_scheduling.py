from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iso20k_sync.scheduling import Activity, CycleError, Link, schedule
from iso20k_sync.template.model import LinkType

from .conftest import HEADER, MONDAY, TEXTBOOK


def test_textbook_network_gives_30_days_and_critical_path_acfi(make_plan):
    plan = make_plan(TEXTBOOK)

    assert plan.duration == 30
    assert plan.critical_path == ["A", "C", "F", "I"]
    floats = {t.id: t.total_float for t in plan.tasks}
    assert floats == {"A": 0, "B": 9, "C": 0, "D": 11, "E": 1, "F": 0, "G": 1, "H": 4, "I": 0}
    # 30 working days from Monday 4 January 2027 end on Friday 12 February
    assert plan.finish == date(2027, 2, 12)
    assert [p.duration for p in plan.phases] == [21, 18]


def _two_tasks(link: str) -> str:
    return (
        HEADER
        + f"""\
phases:
  - id: p
    name: P
    tasks:
      - {{id: A, name: A, duration: 5}}
      - {{id: B, name: B, duration: 3, depends_on: [{link}]}}
"""
    )


@pytest.mark.parametrize(
    ("link", "b_start", "b_finish"),
    [
        # A runs Mon 4 - Fri 8 January 2027
        ("A", date(2027, 1, 11), date(2027, 1, 13)),  # FS: B starts the next working day (Monday)
        ("{task: A, lag: 2}", date(2027, 1, 13), date(2027, 1, 15)),  # FS+2: two working days gap
        ("{task: A, type: SS, lag: 2}", date(2027, 1, 6), date(2027, 1, 8)),  # SS+2: starts on A's 3rd day
        ("{task: A, type: FF, lag: 2}", date(2027, 1, 8), date(2027, 1, 12)),  # FF+2: ends 2 days after A
        ("{task: A, type: FS, lag: -2}", date(2027, 1, 7), date(2027, 1, 11)),  # lead of two days
        (
            "{task: A, type: SF, lag: 5}",
            date(2027, 1, 6),
            date(2027, 1, 8),
        ),  # SF+5: ends 5 days after A starts
    ],
)
def test_link_types_and_lags_give_textbook_dates(make_plan, link, b_start, b_finish):
    plan = make_plan(_two_tasks(link))
    b = next(t for t in plan.tasks if t.id == "B")
    assert (b.start, b.finish) == (b_start, b_finish)


def test_weekend_and_holidays_push_dates(make_plan):
    from iso20k_sync.calendar import CalendarSpec

    plain = make_plan(_two_tasks("A"))
    with_holiday = make_plan(_two_tasks("A"), calendar=CalendarSpec(extra_holidays=(date(2027, 1, 6),)))
    assert plain.finish == date(2027, 1, 13)
    assert with_holiday.finish == date(2027, 1, 14)


def test_milestone_sits_on_its_predecessors_finish_day(make_plan):
    plan = make_plan(
        HEADER
        + """\
phases:
  - id: p
    name: P
    tasks:
      - {id: A, name: A, duration: 5}
      - {id: M, name: Gate, milestone: true, depends_on: [A]}
      - {id: B, name: B, duration: 1, depends_on: [M]}
"""
    )
    by_id = {t.id: t for t in plan.tasks}
    assert by_id["M"].start == by_id["M"].finish == date(2027, 1, 8)
    assert by_id["B"].start == date(2027, 1, 11)
    assert [m.id for m in plan.milestones] == ["M"]


def test_start_on_a_weekend_moves_to_the_next_working_day(make_plan):
    plan = make_plan(TEXTBOOK, start=date(2027, 1, 2))
    assert plan.start == MONDAY


def test_cycle_in_activities_is_refused():
    with pytest.raises(CycleError):
        schedule([Activity("a", 1, (Link("b"),)), Activity("b", 1, (Link("a"),))])


@st.composite
def networks(draw: st.DrawFn) -> list[Activity]:
    count = draw(st.integers(min_value=1, max_value=25))
    activities = []
    for n in range(count):
        preds = (
            draw(st.lists(st.integers(min_value=0, max_value=n - 1), max_size=3, unique=True)) if n else []
        )
        links = tuple(
            Link(f"t{p}", draw(st.sampled_from(list(LinkType))), draw(st.integers(min_value=-3, max_value=5)))
            for p in preds
        )
        activities.append(Activity(f"t{n}", draw(st.integers(min_value=0, max_value=10)), links))
    return activities


@settings(max_examples=200, deadline=None)
@given(networks())
def test_every_link_is_honoured_and_float_is_never_negative(activities):
    result = schedule(activities)
    t = result.timings
    for activity in activities:
        mine = t[activity.id]
        assert mine.early_start >= 0
        assert mine.total_float >= 0
        assert mine.late_finish <= result.finish
        for link in activity.links:
            pred = t[link.predecessor]
            if link.type is LinkType.FS:
                assert mine.early_start >= pred.early_finish + link.lag
                assert mine.late_start >= pred.late_finish + link.lag
            elif link.type is LinkType.SS:
                assert mine.early_start >= pred.early_start + link.lag
                assert mine.late_start >= pred.late_start + link.lag
            elif link.type is LinkType.FF:
                assert mine.early_finish >= pred.early_finish + link.lag
                assert mine.late_finish >= pred.late_finish + link.lag
            else:
                assert mine.early_finish >= pred.early_start + link.lag
                assert mine.late_finish >= pred.late_start + link.lag
    assert any(t[a.id].critical for a in activities)
    assert result.finish == max(t[a.id].early_finish for a in activities)


def test_phase_duration_counts_the_working_days_between_its_dates(make_plan):
    plan = make_plan(
        HEADER
        + """\
phases:
  - id: build
    name: Build
    tasks:
      - {id: A, name: A, duration: 5}
  - id: gate
    name: Gate only
    tasks:
      - {id: G, name: Gate, milestone: true, depends_on: [A]}
  - id: run
    name: Run
    tasks:
      - {id: S, name: Started, milestone: true, depends_on: [G]}
      - {id: B, name: B, duration: 3, depends_on: [S]}
"""
    )
    build, gate, run = plan.phases
    assert (build.start, build.finish, build.duration) == (date(2027, 1, 4), date(2027, 1, 8), 5)
    assert (gate.start, gate.finish, gate.duration) == (date(2027, 1, 8), date(2027, 1, 8), 0)
    # the phase opens with a milestone dated Friday 8 and works Monday 11 to Wednesday 13
    assert (run.start, run.finish, run.duration) == (date(2027, 1, 8), date(2027, 1, 13), 4)

"""Reading a Jira issue's fields into task progress, and the labels that carry the plan key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.jira import mapping
from connectors.values import ItemState


def fields(category: str, name: str = "Whatever", **extra):
    return {"status": {"name": name, "statusCategory": {"key": category}}, **extra}


def test_status_category_time_tracking_and_cost():
    done, problems = mapping.progress(
        "t",
        fields("done", resolutiondate="2027-02-01T23:30:00.000+0100", timespent=28800, customfield_1=1200.5),
        "customfield_1",
        8,
        {},
    )
    assert (done.state, done.percent_complete, done.actual_finish) == (ItemState.done, 100, date(2027, 2, 1))
    assert done.actual_cost == Decimal("1200.5") and done.time_spent_days == 1 and problems == []
    busy, _ = mapping.progress(
        "t", fields("indeterminate", timespent=3600 * 6, timeestimate=3600 * 18), None, 8, {}
    )
    assert busy.state is ItemState.in_progress and busy.percent_complete == Decimal("25.0")
    assert busy.remaining_days == Decimal("2.25")


def test_status_map_and_unreadable_cost():
    facts, problems = mapping.progress(
        "t", fields("new", "Blocked", customfield_1="n/a"), "customfield_1", 8, {"Blocked": "in_progress"}
    )
    assert facts.state is ItemState.in_progress and facts.actual_cost is None
    assert problems == ["t: actual cost 'n/a' is not a number"]


def test_labels_round_trip_with_keys_that_contain_separators():
    labels = ["other", mapping.plan_label("acme-2027"), mapping.item_label("acme-2027", "phase:stage2")]
    assert mapping.item_key("acme-2027", labels) == "phase:stage2"
    assert mapping.item_key("acme", labels) is None

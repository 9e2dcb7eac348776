"""What is due when: the service's schedule under a controlled clock (no sleeping), across
daylight-saving changes, and catch-up after downtime (once, not once per missed day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from iso20k_sync.config import ServiceConfig
from iso20k_sync.service.schedule import Due, due_runs

BERLIN = ZoneInfo("Europe/Berlin")


def config(**digest: object) -> ServiceConfig:
    plan = {
        "name": "acme",
        "start": "2027-01-04",
        "timezone": "Europe/Berlin",
        "tracker": {"kind": "workbook", "path": "acme.xlsx"},
        "digest": {"recipients": ["cio@acme.example"], **digest},
    }
    mail = {"sender": "iso20k@acme.example", "smtp": {"host": "localhost", "port": 25, "security": "none"}}
    return ServiceConfig.model_validate({"plans": [plan], "mail": mail, "service": {"sync_time": "06:00"}})


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    "day",
    [(2027, 3, 27), (2027, 3, 28), (2027, 3, 29), (2027, 10, 30), (2027, 10, 31), (2027, 11, 1)],
    ids=["before-spring", "spring-forward", "after-spring", "before-autumn", "fall-back", "after-autumn"],
)
def test_the_daily_sync_falls_due_at_six_local_on_and_around_daylight_saving_changes(day):
    year, month, date_ = day
    before, at = local(year, month, date_, 5, 59), local(year, month, date_, 6, 0)
    period = f"{year}-{month:02d}-{date_:02d}"
    assert Due("acme", "sync", period) not in due_runs(config(), before)
    assert Due("acme", "sync", period) in due_runs(config(), at)


def test_utc_hours_of_the_sync_follow_the_clock_change():
    assert local(2027, 3, 27, 6, 0).hour == 5  # CET, UTC+1
    assert local(2027, 3, 29, 6, 0).hour == 4  # CEST, UTC+2


def test_the_digest_falls_due_on_its_weekday_and_time_and_stays_due_for_the_rest_of_the_week():
    settings = config(weekday="monday", time="08:00")
    monday = local(2027, 2, 1, 7, 59)
    assert not [d for d in due_runs(settings, monday) if d.job == "digest"]
    assert Due("acme", "digest", "2027-W05") in due_runs(settings, monday + timedelta(minutes=1))
    thursday = local(2027, 2, 4, 6, 30)  # an instance that was down since Sunday catches up once:
    due = due_runs(settings, thursday)  # today's sync and the week's digest, not each missed day
    assert due == [Due("acme", "sync", "2027-02-04"), Due("acme", "digest", "2027-W05")]


def test_a_sync_time_skipped_by_the_spring_change_still_runs_that_day():
    settings = ServiceConfig.model_validate(
        {**config().model_dump(mode="json"), "service": {"sync_time": "02:30"}, "mail": None}
    )
    after_jump = local(2027, 3, 28, 3, 0)  # 02:00-03:00 does not exist that night
    assert Due("acme", "sync", "2027-03-28") in due_runs(settings, after_jump)


def test_no_digest_is_due_without_mail_or_recipients():
    no_mail = ServiceConfig.model_validate({**config().model_dump(mode="json"), "mail": None})
    assert [d.job for d in due_runs(no_mail, local(2027, 2, 1, 9, 0))] == ["sync"]

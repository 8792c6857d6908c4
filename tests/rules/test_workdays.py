"""The working calendar and durations, against dates checked by hand on the 2026 State Council notice."""

from datetime import date, datetime, time

import pytest

from sheetdesk.rules.durations import Duration, DurationError, due_time, format_business_seconds, parse_duration
from sheetdesk.rules.workdays import BusinessHours, WorkCalendar

CAL = WorkCalendar()
LUNCH = WorkCalendar(BusinessHours.parse(["09:00-12:00", "13:30-18:00"]))


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("day, worked", [
    ("2026-10-01", False),  # 国庆
    ("2026-10-07", False),
    ("2026-10-10", True),   # 调休 Saturday
    ("2026-09-20", True),   # 调休 Sunday
    ("2026-10-08", True),
    ("2026-11-21", False),  # ordinary Saturday
    ("2026-11-23", True),
    ("2026-02-14", True),   # 春节调休 Saturday
    ("2026-02-17", False),  # 春节
    # 2025 (国办发明电〔2024〕12号): 春节 28 Jan–4 Feb, make-up Sun 26 Jan and Sat 8 Feb;
    # 国庆/中秋 1–8 Oct, make-up Sun 28 Sep and Sat 11 Oct; 劳动节 1–5 May, make-up Sun 27 Apr
    ("2025-01-26", True), ("2025-01-28", False), ("2025-02-04", False), ("2025-02-05", True),
    ("2025-02-08", True), ("2025-09-28", True), ("2025-10-08", False), ("2025-10-11", True),
    ("2025-04-27", True), ("2025-05-05", False),
])
def test_official_calendar(day, worked):
    assert CAL.is_workday(date.fromisoformat(day)) is worked


def test_working_days_skip_golden_week():
    # 17:00 on the eve of the holiday: one business hour left that day, eight on 8 October
    assert due_time(CAL, dt("2026-09-30 17:00"), Duration(1, "working_days")) == dt("2026-10-08 17:00")


def test_makeup_saturday_counts():
    assert due_time(CAL, dt("2026-10-09 17:00"), Duration(2, "business_hours")) == dt("2026-10-10 10:00")


def test_outside_hours_starts_next_business_moment():
    assert due_time(CAL, dt("2026-11-21 22:00"), Duration(2, "business_hours")) == dt("2026-11-23 11:00")
    assert CAL.next_business_moment(dt("2026-11-23 18:00")) == dt("2026-11-24 09:00")
    assert CAL.next_business_moment(dt("2026-11-23 10:15")) == dt("2026-11-23 10:15")


def test_arrival_during_a_holiday_waits_for_the_first_working_day():
    # received on the first day of Spring Festival 2025: the clock starts on 5 Feb at 09:00
    assert due_time(CAL, dt("2025-01-28 20:00"), Duration(4, "business_hours")) == dt("2025-02-05 13:00")
    # a make-up Saturday is a working day like any other
    assert due_time(CAL, dt("2025-02-07 17:00"), Duration(2, "business_hours")) == dt("2025-02-08 10:00")


def test_deadline_at_end_of_day_stays_there():
    assert due_time(CAL, dt("2026-11-23 09:00"), Duration(9, "business_hours")) == dt("2026-11-23 18:00")
    assert due_time(CAL, dt("2026-11-23 09:00"), Duration(1, "working_days")) == dt("2026-11-23 18:00")


def test_wall_clock_units_ignore_the_calendar():
    assert due_time(CAL, dt("2026-11-21 22:00"), Duration(4, "hours")) == dt("2026-11-22 02:00")
    assert due_time(CAL, dt("2026-11-21 22:00"), Duration(30, "minutes")) == dt("2026-11-21 22:30")
    assert due_time(CAL, dt("2026-09-30 10:00"), Duration(2, "days")) == dt("2026-10-02 10:00")


def test_lunch_break_is_not_business_time():
    assert due_time(LUNCH, dt("2026-11-23 11:00"), Duration(3, "business_hours")) == dt("2026-11-23 15:30")
    assert due_time(LUNCH, dt("2026-11-23 12:30"), Duration(3, "business_hours")) == dt("2026-11-23 16:30")
    assert LUNCH.hours.day_seconds == 7.5 * 3600
    assert due_time(LUNCH, dt("2026-11-23 09:00"), Duration(1, "working_days")) == dt("2026-11-23 18:00")


def test_business_seconds_between_is_signed_and_skips_weekends():
    assert CAL.business_seconds_between(dt("2026-11-20 17:00"), dt("2026-11-23 10:00")) == 2 * 3600
    assert CAL.business_seconds_between(dt("2026-11-23 10:00"), dt("2026-11-20 17:00")) == -2 * 3600


def test_settings_overrides_and_complete_year():
    cal = WorkCalendar.from_settings({
        "business_hours": ["08:30-17:30"],
        "holidays": ["2026-11-24"],
        "workdays": ["2026-11-22"],
        "years": {"2027": {"complete": True, "holidays": ["2027-01-01"], "workdays": []}},
    })
    assert cal.hours.intervals == ((time(8, 30), time(17, 30)),)
    assert not cal.is_workday(date(2026, 11, 24))
    assert cal.is_workday(date(2026, 11, 22))
    assert not cal.is_workday(date(2027, 1, 1))
    assert not cal.is_provisional(date(2027, 6, 1))
    assert cal.is_provisional(date(2028, 6, 1))


@pytest.mark.parametrize("cfg", [
    {"business_hours": ["9-18"]},
    {"business_hours": ["18:00-09:00"]},
    {"holidays": ["next tuesday"]},
    {"holidays": "2026-01-01"},
    {"years": {"2027": {"holidays": ["2026-01-01"]}}},
    {"colour": "red"},
    {"holidays": ["2026-12-01"], "workdays": ["2026-12-01"]},
])
def test_bad_settings_raise_value_error(cfg):
    with pytest.raises(ValueError):
        WorkCalendar.from_settings(cfg)


def test_uncovered_year_is_provisional_with_exact_hint():
    assert CAL.is_provisional(date(2027, 3, 1))
    assert not CAL.is_provisional(date(2026, 3, 1))
    assert CAL.touches_provisional(dt("2026-12-30 10:00"), dt("2027-01-06 10:00"))
    assert not CAL.touches_provisional(dt("2026-12-01 10:00"), dt("2026-12-06 10:00"))
    hint = CAL.provisional_hint(2027, "zh")
    assert "[calendar.years.2027]" in hint and "pip install -U chinese-calendar" in hint
    assert "sheetdesk.toml" in CAL.provisional_hint(2027, "en")
    # plain weekends: 1 Jan 2027 (a Friday) counts as a working day until the data exists
    assert due_time(CAL, dt("2026-12-31 10:00"), Duration(2, "working_days")) == dt("2027-01-04 10:00")


@pytest.mark.parametrize("text, amount, unit", [
    ("30分钟", 30, "minutes"), ("30m", 30, "minutes"), ("30 min", 30, "minutes"),
    ("4小时", 4, "hours"), ("4h", 4, "hours"), ("４ｈ", 4, "hours"), ("72小时内", 72, "hours"),
    ("8工作小时", 8, "business_hours"), ("8bh", 8, "business_hours"),
    ("5个工作日", 5, "working_days"), ("5工作日", 5, "working_days"), ("5wd", 5, "working_days"),
    ("1.5h", 1.5, "hours"), ("2天", 2, "days"),
])
def test_parse_duration(text, amount, unit):
    assert parse_duration(text) == Duration(amount, unit)


@pytest.mark.parametrize("blank", [None, "", " ", "-", "—", "无", "不计时"])
def test_blank_durations_are_untimed(blank):
    assert parse_duration(blank) is None


@pytest.mark.parametrize("bad, words", [(24, "单位"), ("24", "单位"), ("5个月", "无法识别"), ("0h", "大于 0"),
                                        ("500wd", "一年")])
def test_bad_durations_explain(bad, words):
    with pytest.raises(DurationError) as info:
        parse_duration(bad)
    assert words in info.value.zh and info.value.en


def test_duration_text_round_trips():
    for d in (Duration(30, "minutes"), Duration(4, "hours"), Duration(8, "business_hours"), Duration(5, "working_days")):
        assert parse_duration(d.text("zh")) == d
        assert parse_duration(d.text("en")) == d


def test_format_business_seconds():
    assert format_business_seconds(45 * 60, CAL) == "45分钟"
    assert format_business_seconds(3.5 * 3600, CAL) == "3.5工作小时"
    assert format_business_seconds(2.5 * 9 * 3600, CAL) == "2.5个工作日"
    assert format_business_seconds(3.5 * 3600, CAL, "en") == "3.5 business hours"
    assert format_business_seconds(2 * 9 * 3600, CAL, "en") == "2 working days"


from datetime import timedelta  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)),
       seconds=st.integers(min_value=1, max_value=40 * 9 * 3600))
def test_adding_then_measuring_gives_the_same_business_time(start, seconds):
    start = start.replace(microsecond=0)
    for cal in (CAL, LUNCH):
        due = cal.add_business_seconds(start, seconds)
        assert cal.business_seconds_between(start, due) == seconds
        assert due > start
        # the deadline is inside (or at the end of) business hours of a working day
        assert cal.is_workday(due.date())
        assert cal.business_seconds_between(start, due - timedelta(seconds=1)) == seconds - 1

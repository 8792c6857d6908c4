"""Rounds of handling (二次处理) with plain values: the roll-up keeps each ended round, the tracker
judges the first round as it stood, the KPIs count later rounds apart, the trend's rate changes."""

from datetime import datetime

import pytest

from sheetdesk.rules.durations import parse_duration
from sheetdesk.rules.kpis import KpiTicket, LaterRound, kpis, month, trend
from sheetdesk.rules.progress import LogEntry, roll_up
from sheetdesk.rules.register import Ticket
from sheetdesk.rules.sla import LATE, ON_TIME, OPEN_LATE, Level, overdue_text
from sheetdesk.rules.tracker import build_statuses, headers
from sheetdesk.rules.workdays import WorkCalendar

CAL = WorkCalendar()
D = datetime
RECEIVED = {"A": D(2026, 9, 22, 10)}
P1 = Level(2, "P1", 1, (), {"first_response": parse_duration("48小时"), "tech_engaged": None, "solution": None,
                            "closed": parse_duration("7个工作日")})


def log(row, time, step):
    return LogEntry(row, "A", time, step)


def test_a_reopening_ends_the_round_and_keeps_it():
    rollups, _ = roll_up([log(2, D(2026, 9, 22, 10, 30), "first_response"), log(3, D(2026, 9, 24, 16), "closed")],
                         RECEIVED, extra_reopen=[("A", D(2026, 9, 28, 10))])
    r = rollups["A"]
    assert r.round == 2 and r.status == "reopened" and r.done == {}
    (first,) = r.history
    assert first.number == 1 and first.start == D(2026, 9, 22, 10) and first.ended == D(2026, 9, 28, 10)
    assert first.done["first_response"] == D(2026, 9, 22, 10, 30) and first.closed_at == D(2026, 9, 24, 16)
    assert [x.number for x in r.all_rounds()] == [1, 2] and r.all_rounds()[1].start == D(2026, 9, 28, 10)


def statuses(entries, reopen, now):
    rollups, _ = roll_up(entries, RECEIVED, extra_reopen=reopen)
    ticket = Ticket(2, "A", RECEIVED["A"], "甲", "产品质量类", P1, "维修部", "李工", {})
    return build_statuses([ticket], rollups, {2: ("P1", 1)}, {"P1": P1}, CAL, now)[0]


def test_the_first_response_stays_the_first_rounds_and_the_resolution_is_timed_again():
    s = statuses([log(2, D(2026, 9, 22, 10, 30), "first_response"), log(3, D(2026, 9, 24, 16), "closed")],
                 [("A", D(2026, 9, 28, 10))], D(2026, 10, 14, 9))
    assert s.round == 2 and s.round_text("zh") == "第2轮" and s.round_text("en") == "Round 2"
    assert s.states["first_response"].state == ON_TIME and s.states["first_response"] == s.first_states["first_response"]
    assert s.first_states["closed"].state == ON_TIME
    # 7 working days from Mon 28 Sep 10:00 over 国庆 (1–7 Oct) and the make-up Saturday 10 Oct
    assert s.states["closed"].due == D(2026, 10, 13, 10) and s.states["closed"].state == OPEN_LATE
    (later,) = s.later_rounds
    assert later.number == 2 and later.start == D(2026, 9, 28, 10) and set(later.states) == {"tech_engaged", "solution", "closed"}
    text = overdue_text(s.states, CAL, "zh", s.round_text("zh"))
    assert text is not None and text.startswith("第2轮解决超时 ")
    assert overdue_text(s.states, CAL, "en", s.round_text("en")).startswith("Round 2: resolution late by ")


def test_a_missed_first_round_stays_missed():
    # closed late in the first round: 7 working days from Tue 22 Sep 10:00 skip 中秋 (25 Sep) and 国庆
    # (1–7 Oct) → Fri 9 Oct 10:00; closed at 16:00 that day
    s = statuses([log(2, D(2026, 9, 22, 10, 30), "first_response"), log(3, D(2026, 10, 9, 16), "closed"),
                  log(4, D(2026, 10, 12, 9), "closed")],
                 [("A", D(2026, 10, 10, 10))], D(2026, 10, 14, 9))
    assert s.first_states["closed"].due == D(2026, 10, 9, 10) and s.first_states["closed"].state == LATE
    assert s.states["closed"].state == ON_TIME  # the second round closed in time


def test_the_tracker_ends_with_the_round():
    assert headers("zh")[-1] == "轮次" and headers("en")[-1] == "Round"


def test_later_rounds_are_counted_apart():
    sep = month(2026, 9)
    now = D(2026, 10, 14, 9)
    tickets = [
        KpiTicket("A", D(2026, 9, 22, 10), response_due=D(2026, 9, 24, 10), response_done=D(2026, 9, 22, 10, 30),
                  closed_due=D(2026, 10, 1, 10), closed_at=D(2026, 10, 12, 15),
                  later_rounds=(LaterRound(2, D(2026, 9, 28, 10), D(2026, 10, 13, 10), D(2026, 10, 12, 15)),),
                  first_closed_at=D(2026, 9, 24, 16)),
        KpiTicket("B", D(2026, 9, 21, 9), response_due=D(2026, 9, 23, 9), response_done=D(2026, 9, 21, 9, 30),
                  closed_due=D(2026, 9, 30, 9), closed_at=None,
                  later_rounds=(LaterRound(2, D(2026, 9, 23, 10), D(2026, 10, 10, 10), None),),
                  first_closed_at=D(2026, 9, 22, 17)),
    ]
    k = kpis(tickets, sep, now, CAL)
    # A's latest close (12 Oct) is after its first round's due (1 Oct), yet the first round closed on 24 Sep
    assert k["resolution_attainment"] == 1.0 and k["response_attainment"] == 1.0
    assert k["later_rounds"] == 2 and k["later_round_attainment"] == 0.5
    assert kpis(tickets, month(2026, 10), now, CAL)["later_rounds"] == 0


def test_the_trend_gives_rate_changes_in_points():
    def ticket(i, received, good):
        return KpiTicket(f"T{i}", received, response_due=received, response_done=received if good else None,
                         rating="satisfied" if good else "unsatisfied", rated_at=received)

    tickets = [ticket(1, D(2025, 10, 5, 10), False), ticket(2, D(2025, 10, 6, 10), True),     # Oct 2025: 50 %
               ticket(3, D(2026, 9, 7, 10), True), ticket(4, D(2026, 9, 8, 10), False),
               ticket(5, D(2026, 9, 9, 10), False), ticket(6, D(2026, 9, 10, 10), False),    # Sep 2026: 25 %
               ticket(7, D(2026, 10, 5, 10), True), ticket(8, D(2026, 10, 6, 10), True),
               ticket(9, D(2026, 10, 7, 10), True), ticket(10, D(2026, 10, 8, 10), False)]   # Oct 2026: 75 %
    row = trend(tickets, month(2026, 10), D(2026, 11, 1, 9))[-1]
    assert row["satisfaction_rate"] == pytest.approx(0.75)
    assert row["satisfaction_rate_mom"] == pytest.approx(50.0) and row["satisfaction_rate_yoy"] == pytest.approx(25.0)
    assert row["response_attainment_mom"] == pytest.approx(50.0) and row["response_attainment_yoy"] == pytest.approx(25.0)
    assert row["resolution_attainment_mom"] is None  # no resolution deadlines: nothing to compare
    first = trend(tickets, month(2026, 10), D(2026, 11, 1, 9))[0]  # November 2025: no month before it with a rate
    assert first["satisfaction_rate_mom"] is None

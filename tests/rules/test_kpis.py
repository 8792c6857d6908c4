"""KPIs of a small register computed by hand (PRODUCT.md §4 definitions)."""

from datetime import datetime

from sheetdesk.rules.kpis import (
    KpiTicket,
    group_table,
    iso_week,
    kpis,
    month,
    overdue_reasons,
    satisfaction_distribution,
    shift_month,
    trend,
)
from sheetdesk.rules.workdays import WorkCalendar

CAL = WorkCalendar()
NOW = datetime(2026, 11, 23, 9)
D = datetime

TICKETS = [
    # received in November, response on time (due 4 Nov 10:00, done 3 Nov 11:00 = 1h), closed in time
    KpiTicket("A", D(2026, 11, 2, 10), "产品质量类", "P1", 1, "维修部", "李工", D(2026, 11, 4, 10), D(2026, 11, 2, 11),
              D(2026, 11, 11, 10), D(2026, 11, 5, 10), "satisfied", D(2026, 11, 6, 10)),
    # response late (done after due), still open, closing not yet due → not judged for resolution
    KpiTicket("B", D(2026, 11, 16, 9), "产品质量类", "P1", 1, "维修部", "李工", D(2026, 11, 18, 9), D(2026, 11, 18, 12),
              D(2026, 11, 25, 9), None, overdue_reason="备件缺货"),
    # never answered and past due → response miss; closing past due too
    KpiTicket("C", D(2026, 11, 3, 9), "物流类", "P2", 2, "物流部", "孙工", D(2026, 11, 12, 9), None,
              D(2026, 11, 20, 9), None),
    # October ticket closed in November, rated 不满意 in November
    KpiTicket("D", D(2026, 10, 28, 9), "服务体验类", "P0", 0, "客户服务部", "赵主管", D(2026, 10, 29, 9),
              D(2026, 10, 28, 10), D(2026, 10, 30, 9), D(2026, 11, 2, 15), "unsatisfied", D(2026, 11, 3, 9)),
    # October ticket still open at the end of November
    KpiTicket("E", D(2026, 10, 5, 9), "物流类", "P2", 2, "物流部", "孙工", D(2026, 10, 14, 9), D(2026, 10, 5, 10),
              D(2026, 10, 26, 9), None),
]
NOV = month(2026, 11)


def test_month_kpis_by_hand():
    k = kpis(TICKETS, NOV, NOW, CAL)
    assert k["received"] == 3                      # A, B, C
    assert k["closed"] == 2                        # A (Nov), D (arrived October)
    assert k["open_at_end"] == 3                   # B, C, E
    assert k["response_attainment"] == 1 / 3       # A on time; B late; C past due
    assert k["resolution_attainment"] == 1 / 2     # A on time; C past due; B not yet due
    # response: A 1h, B 16 Nov 09:00 → 18 Nov 12:00 = 9 + 9 + 3 = 21 business hours
    assert k["mean_response_h"] == 11.0 and k["median_response_h"] == 11.0
    # resolution: A 2 Nov 10:00 → 5 Nov 10:00 = 27 business hours
    assert k["mean_resolution_h"] == 27.0
    assert k["rated"] == 2 and k["satisfaction_rate"] == 0.5


def test_groups_distribution_reasons():
    cats = group_table(TICKETS, NOV, NOW, "category")
    assert [(r["name"], r["received"]) for r in cats] == [("产品质量类", 2), ("物流类", 1)]
    assert cats[0]["share"] == 2 / 3 and cats[0]["late"] == 1
    prios = group_table(TICKETS, NOV, NOW, "priority")
    assert [r["name"] for r in prios] == ["P1", "P2"]
    assert satisfaction_distribution(TICKETS, NOV) == {"satisfied": 1, "fair": 0, "unsatisfied": 1}
    assert overdue_reasons(TICKETS, NOV, NOW) == [("", 1), ("备件缺货", 1)]


def test_trend_and_periods():
    rows = trend(TICKETS, NOV, NOW)
    assert len(rows) == 12 and rows[-1]["month"] == "2026-11" and rows[0]["month"] == "2025-12"
    assert rows[-2]["received"] == 2 and rows[-1]["received"] == 3
    assert rows[-1]["received_mom"] == 0.5
    assert rows[-1]["received_yoy"] is None          # nothing a year before
    assert shift_month(month(2026, 1), -1).label == "2025-12"
    week = iso_week(2026, 47)
    assert week.start == D(2026, 11, 16) and week.end == D(2026, 11, 23)


def test_the_trend_agrees_with_each_months_kpis_across_a_register():
    """The trend is computed for the whole register at once (pandas, grouped by month); each of its
    months must say what :func:`kpis` says for that month alone — including ratings without a time
    (counted when the ticket closed), untimed stages, a fair rating, and a ticket from 1950."""
    extra = [
        KpiTicket("F", D(2025, 11, 20, 9), response_due=D(2025, 11, 21, 9), response_done=D(2025, 11, 20, 10),
                  closed_due=D(2025, 11, 28, 9), closed_at=D(2025, 12, 1, 9), rating="fair"),
        KpiTicket("G", D(2026, 3, 2, 9)),  # no priority: nothing timed, never judged
        KpiTicket("H", D(2026, 3, 3, 9), response_due=D(2026, 3, 4, 9), closed_due=D(2026, 3, 10, 9),
                  closed_at=D(2026, 3, 9, 9), rating="unsatisfied", rated_at=D(2026, 4, 1, 9)),
        KpiTicket("I", D(1950, 1, 5, 9)),
    ]
    register = TICKETS + extra
    for period in (NOV, month(2026, 4), month(2025, 12)):
        rows = trend(register, period, NOW)
        for row in rows:
            year, number = map(int, row["month"].split("-"))
            k = kpis(register, month(year, number), NOW, CAL)
            before = kpis(register, shift_month(month(year, number), -1), NOW, CAL)
            assert (row["received"], row["closed"]) == (k["received"], k["closed"]), row
            for key in ("response_attainment", "resolution_attainment", "satisfaction_rate"):
                assert row[key] == k[key] and (row[key] is None or type(row[key]) is float), (row, key)
            assert type(row["received"]) is int
            expected = None if not before["received"] else (k["received"] - before["received"]) / before["received"]
            assert row["received_mom"] == expected
    assert trend(register, month(2025, 12), NOW)[-1]["satisfaction_rate"] == 1.0  # F: fair, closed in December


def test_unhappy_top_counts_the_latest_unsatisfied_of_the_period():
    from sheetdesk.rules.kpis import KpiTicket, month, unhappy_top
    rated = datetime(2026, 11, 10)

    def t(i, category, sub="", rating="unsatisfied", at=rated):
        return KpiTicket(f"202611-{i:03d}", datetime(2026, 11, 1), category, rating=rating, rated_at=at, subcategory=sub)
    tickets = [t(1, "物流类", "发货延迟"), t(2, "物流类", "发货延迟"), t(3, "物流类", "丢件"), t(4, "产品质量类"),
               t(5, "产品质量类", rating="satisfied"), t(6, "服务体验类", at=datetime(2026, 10, 30))]
    nov = month(2026, 11)
    assert unhappy_top(tickets, nov) == [("物流类", 3, 0.75), ("产品质量类", 1, 0.25)]
    assert unhappy_top(tickets, nov, "subcategory") == [("物流类/发货延迟", 2, 0.5), ("产品质量类", 1, 0.25),
                                                         ("物流类/丢件", 1, 0.25)]

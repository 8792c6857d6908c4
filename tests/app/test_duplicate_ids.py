"""A duplicate ID never merges two customers: each register row is its own ticket (tracked, timed,
exported), and log / results rows carrying the shared ID are reported as ambiguous, given to neither."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from sheetdesk.app.desk import run
from sheetdesk.app.summary import tickets_from_run
from sheetdesk.rules import dates
from tests.helpers import NOW, register_rows, sheet_rows

PHONES: dict[str, str] = {}  # one number per customer: a shared one would make a repeat complaint


def t(received, id_, customer, **extra):
    phone = PHONES.setdefault(customer, f"1380000{len(PHONES) + 1:04d}")
    return {"id": id_, "received": received, "channel": "电话", "customer": customer, "contact": phone,
            "product": "XR-200", "description": "机器无法开机，指示灯不亮", **extra}


# rows 2 and 3 share an ID: two customers, two received times, two priorities (both since the last stand-up)
REGISTER = [
    t(datetime(2026, 11, 20, 14), "202611-001", "王女士", priority="P2"),
    t(datetime(2026, 11, 20, 16), "202611-001", "李先生", priority="P1"),
    t(datetime(2026, 11, 10, 10), "202611-002", "赵女士"),
]
LOG = [  # rows 2-4 carry the shared ID: once the second row was shown 重新打开 with this log
    {"id": "202611-001", "time": datetime(2026, 11, 20, 15), "by": "李工", "step": "首次响应"},
    {"id": "202611-001", "time": datetime(2026, 11, 20, 17), "by": "李工", "step": "问题关闭"},
    {"id": "202611-001", "time": datetime(2026, 11, 20, 17, 30), "by": "李工", "step": "重新打开"},
    {"id": "202611-002", "time": datetime(2026, 11, 10, 11), "by": "李工", "step": "首次响应"},
]
RESULTS = [
    {"id": "202611-001", "result": "已更换主板", "satisfaction": "满意", "rated_at": datetime(2026, 11, 20, 18),
     "reviewer": "王主管", "reviewed_on": datetime(2026, 11, 21)},
]

AMBIGUOUS = "编号“202611-001”在登记表中有多行（第2、3行）"
FIX = "请在登记表改正重复的编号"


def _engine(tmp_path, engine):
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")


def _tracker(path):
    _, _, rows = sheet_rows(path, "跟踪看板")
    return [r for r in rows if r.get("客户名称")]


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_two_rows_sharing_an_id_stay_two_tickets(make_desk, cli, tmp_path, engine):
    _engine(tmp_path, engine)
    path = make_desk(REGISTER, progress=LOG, results=RESULTS)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output

    # the same desk with the second row correctly numbered and none of the ambiguous rows: what each
    # customer's ticket must look like (its own received time, its own priority, nothing logged)
    control_dir = tmp_path / "control"
    control_dir.mkdir()
    _engine(control_dir, engine)
    fixed = [dict(REGISTER[0]), {**REGISTER[1], "id": "202611-003"}, dict(REGISTER[2])]
    control = make_desk(fixed, progress=LOG[3:], name="control/desk.xlsx")
    assert cli("refresh", control, "--now", NOW).exit_code == 0

    tracker = {r["客户名称"]: r for r in _tracker(path)}
    expected = {r["客户名称"]: r for r in _tracker(control)}
    assert [r["反馈编号"] for r in _tracker(path)].count("202611-001") == 2
    for customer in ("王女士", "李先生"):
        got = {k: v for k, v in tracker[customer].items() if k != "反馈编号"}
        want = {k: v for k, v in expected[customer].items() if k != "反馈编号"}
        assert got == want, customer
        assert got["状态"] == "新登记" and got["首次响应完成"] is None
    assert tracker["王女士"]["生效优先级"] == "P2" and tracker["李先生"]["生效优先级"] == "P1"
    assert tracker["王女士"]["首次响应时限"] != tracker["李先生"]["首次响应时限"]
    assert tracker["赵女士"]["状态"] == "首次响应"  # an unambiguous ID still gets its log

    rows = register_rows(path)
    assert "与第3行重复" in rows[2]["check"] and "与第2行重复" in rows[3]["check"]
    assert rows[2]["status"] == rows[3]["status"] == "新登记"
    assert rows[2]["response_due"] != rows[3]["response_due"]

    _, _, log = sheet_rows(path, "进度跟踪")
    for r in log[:3]:
        assert AMBIGUOUS in r["校验"] and FIX in r["校验"] and r["校验"].startswith("注意：")
    assert log[3]["校验"] is None
    _, _, res = sheet_rows(path, "处理结果")
    assert AMBIGUOUS in res[0]["校验"]

    again = cli("refresh", path, "--now", NOW)
    assert "无需修改" in again.output, again.output


def test_standup_lists_the_conflict_and_both_tickets_as_new(make_desk, cli):
    path = make_desk(REGISTER, progress=LOG, results=RESULTS)
    text = cli("refresh", path, "--now", NOW).output
    assert "编号冲突（1）" in text and "第2行 王女士；第3行 李先生" in text
    assert "新登记（自上次晨会）（2）" in text
    # in the lists, the two tickets sharing an ID are told apart by their register row
    assert "202611-001（第2行）" in text and "202611-001（第3行）" in text

    en = cli("refresh", path, "--now", NOW, "--lang", "en").output
    assert "ID conflicts (1)" in en and "row 2 王女士; row 3 李先生" in en
    assert "202611-001 (row 2)" in en and "202611-001 (row 3)" in en

    data = json.loads(cli("refresh", path, "--now", NOW, "--json").output)
    standup = data["standup"]
    assert standup["id_conflicts"] == [{"id": "202611-001", "rows": [{"row": 2, "customer": "王女士"},
                                                                     {"row": 3, "customer": "李先生"}]}]
    assert sorted((i["id"], i["customer"]) for i in standup["new"]) == [("202611-001", "李先生"),
                                                                          ("202611-001", "王女士")]
    assert not standup["reopened"]


def test_kpis_count_two_tickets(make_desk):
    path = make_desk(REGISTER, progress=LOG, results=RESULTS)
    tickets = tickets_from_run(run(path, now=dates.parse_now(NOW), write=False), "b")
    assert sorted((k.id, k.received) for k in tickets) == [
        ("202611-001", datetime(2026, 11, 20, 14)), ("202611-001", datetime(2026, 11, 20, 16)),
        ("202611-002", datetime(2026, 11, 10, 10))]
    assert all(k.closed_at is None and k.rating is None for k in tickets if k.id == "202611-001")


def test_report_refuses_an_ambiguous_id(make_desk, cli, tmp_path):
    results = RESULTS + [{"id": "202611-002", "result": "已修复", "satisfaction": "满意",
                          "rated_at": datetime(2026, 11, 12, 10), "reviewer": "王主管",
                          "reviewed_on": datetime(2026, 11, 13)}]
    path = make_desk(REGISTER, progress=LOG, results=results)
    named = cli("report", path, "202611-001", "--now", NOW)
    assert named.exit_code != 0
    assert "编号“202611-001”在登记表中有多行（第2、3行）" in named.output and "改正重复的编号" in named.output
    assert not (tmp_path / "archive").exists()

    en = cli("report", path, "202611-001", "--now", NOW, "--lang", "en")
    assert "is on several Register rows (2, 3)" in en.output

    every = cli("report", path, "--all", "--now", NOW)
    assert every.exit_code == 0, every.output
    assert "202611-002.xlsx" in every.output and "登记表中重复的编号不出报告：202611-001" in every.output
    assert not list((tmp_path / "archive").glob("*/*/202611-001*"))

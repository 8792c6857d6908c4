"""The escalation cases the seeds name, through the real CLI on real workbooks built from the template:
财产损失 and public accusations (舆情) to the top level, a repeated complaint (same contact, earlier
ticket open or closed recently) and an angry customer complaining again to the second level, five
物流延迟 without a product model as a batch, and a 复合型 ticket's lead, collaborators and tracker row.
Each raised ticket: 生效优先级, 升级原因 naming the rule, the stand-up's escalated list, and its
deadlines on the official calendar (National Day 2026 holidays, the make-up Saturday 10 October)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

import pytest

from sheetdesk.workbook.template import build_template
from tests.helpers import register_rows, sheet_rows

ENGINES = ("patch", "openpyxl")
OCT_NOW = "2026-10-12 18:00"
_phones = itertools.count(1)


def t(received, description, **extra):
    """A ticket with a contact of its own unless one is given (one phone is one customer)."""
    phone = extra.pop("contact", None) or f"1390000{next(_phones):04d}"
    return {"channel": "电话", "customer": extra.pop("customer", "王女士"), "contact": phone,
            "description": description, "received": received, **extra}


def use_engine(path, engine: str) -> None:
    (path.parent / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")


def refresh(cli, path, now=OCT_NOW) -> dict:
    result = cli("refresh", path, "--now", now, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def escalated(out: dict) -> dict[int, str]:
    return {i["row"]: i["escalation_reason"] for i in out["standup"]["escalated"]}


@pytest.mark.parametrize("engine", ENGINES)
def test_property_damage_and_public_accusations_go_to_the_top_level(make_desk, cli, engine):
    path = make_desk([
        t(datetime(2026, 10, 9, 10), "热水器漏水，把楼下邻居家的木地板泡坏了", priority="P2", category="产品质量类"),
        t(datetime(2026, 10, 9, 11), "你们就是骗子，再不处理我就网上曝光，投诉到12315", priority="P2", category="服务体验类"),
        t(datetime(2026, 10, 9, 12), "订单2026031500 无法开机", priority="P2", category="产品质量类"),
    ])
    use_engine(path, engine)
    out = refresh(cli, path)
    rows = register_rows(path)
    assert rows[2]["priority"] == "P2"                           # the typed priority is never changed
    assert rows[2]["effective_priority"] == "P0" and rows[2]["escalation_reason"] == "财产损失“泡坏”→P0"
    assert rows[3]["effective_priority"] == "P0"
    assert rows[3]["escalation_reason"] == "舆情“骗子、12315、曝光”→P0"
    assert rows[4]["effective_priority"] == "P2" and rows[4]["escalation_reason"] is None
    # P0 answers within 24 hours, clock time (a wall-clock SLA runs through any day)
    assert rows[2]["response_due"] == datetime(2026, 10, 10, 10)
    assert escalated(out) == {2: "财产损失“泡坏”→P0", 3: "舆情“骗子、12315、曝光”→P0"}
    console = cli("refresh", path, "--now", OCT_NOW)
    assert "升级工单" in console.output and "财产损失“泡坏”→P0" in console.output


@pytest.mark.parametrize("engine", ENGINES)
def test_the_same_customer_complaining_again_is_raised_to_the_second_level(make_desk, cli, engine):
    path = make_desk([
        # 202609-001 is still open when the customer calls again after the holiday
        t(datetime(2026, 9, 30, 10), "空调不制冷", id="202609-001", contact="138 1234 5678", priority="P2",
          category="产品质量类"),
        t(datetime(2026, 10, 8, 10), "空调还是不制冷，没人上门", id="202610-001", contact="+86 13812345678",
          priority="P2", category="产品质量类"),
        # 202609-002 was closed on 30 Sep; the same e-mail writes on 9 Oct: within 30 days
        t(datetime(2026, 9, 29, 10), "发票抬头错了", id="202609-002", contact="li@example.com", priority="P2",
          category="其他类"),
        t(datetime(2026, 10, 9, 10), "发票还没重开", id="202610-002", contact="LI@example.com", priority="P2",
          category="其他类"),
    ], progress=[{"id": "202609-002", "time": datetime(2026, 9, 30, 15), "step": "问题关闭", "note": "已重开发票"}])
    use_engine(path, engine)
    out = refresh(cli, path)
    rows = register_rows(path)
    assert rows[2]["effective_priority"] == "P2" and rows[2]["escalation_reason"] is None   # the first complaint
    assert rows[3]["effective_priority"] == "P1"
    assert rows[3]["escalation_reason"] == "重复投诉（同一联系方式，工单202609-001未关闭）→至少P1"
    assert rows[5]["effective_priority"] == "P1"
    assert rows[5]["escalation_reason"] == "重复投诉（同一联系方式，工单202609-002于09-30关闭）→至少P1"
    # P1 closes in 7 working days: from Thu 8 Oct, with the make-up Saturday 10 Oct counted
    # (9, 10, 12, 13, 14, 15, 16 October; P2 would be 15 working days)
    assert rows[3]["resolution_due"] == datetime(2026, 10, 16, 10)
    assert rows[2]["resolution_due"] == datetime(2026, 10, 27, 10)  # P2 from 30 Sep: 15 working days, holiday skipped
    assert set(escalated(out)) == {3, 5}


@pytest.mark.parametrize("engine", ENGINES)
def test_an_angry_customer_on_the_third_call_is_raised_but_an_angry_first_call_is_not(make_desk, cli, engine):
    path = make_desk([
        t(datetime(2026, 9, 30, 10), "这是我第三次打电话了，维修一直没人来", emotion="愤怒", priority="P2",
          category="服务体验类"),
        t(datetime(2026, 10, 9, 11), "第一次用就坏了", emotion="愤怒", priority="P2", category="产品质量类"),
    ])
    use_engine(path, engine)
    out = refresh(cli, path)
    rows = register_rows(path)
    assert rows[2]["effective_priority"] == "P1"
    assert rows[2]["escalation_reason"] == "情绪：愤怒且“第三次”→至少P1"
    # P1's 7 working days from 30 Sep skip the National Day holiday (1–7 Oct) and count Sat 10 Oct
    assert rows[2]["resolution_due"] == datetime(2026, 10, 15, 10)
    assert rows[3]["effective_priority"] == "P2" and rows[3]["escalation_reason"] is None
    assert escalated(out) == {2: "情绪：愤怒且“第三次”→至少P1"}


@pytest.mark.parametrize("engine", ENGINES)
def test_five_logistics_delays_in_five_days_without_a_model_are_a_batch(make_desk, cli, engine):
    days = (8, 9, 10, 11, 12)          # 10 October is the make-up working Saturday
    said = ("物流延迟，三天没有更新", "下单一周了快递还没收到", "物流显示停在中转站", "快递迟迟没收到", "发货太慢了")
    path = make_desk([t(datetime(2026, 10, d, 10), text, customer=f"客户{d}") for d, text in zip(days, said)]
                     + [t(datetime(2026, 10, 12, 11), "发票开错了", customer="别人")])
    use_engine(path, engine)
    out = refresh(cli, path)
    rows = register_rows(path)
    # five logistics problems in other words: one batch of the category (its matrix row has no subcategories)
    reason = "批量问题 物流类@20261008（7天内5单）→至少P1"
    for row in range(2, 7):
        assert rows[row]["category"] == "物流类" and rows[row]["priority"] == "P2"   # routed by the matrix
        assert rows[row]["effective_priority"] == "P1" and rows[row]["escalation_reason"] == reason
    assert rows[7]["effective_priority"] == "P2" and rows[7]["escalation_reason"] is None
    # the batch is timed at P1: 7 working days from Fri 9 Oct counts Sat 10 Oct (make-up day)
    assert rows[3]["resolution_due"] == datetime(2026, 10, 19, 10)    # 10, 12, 13, 14, 15, 16, 19 October
    assert set(escalated(out)) == set(range(2, 7))


def test_the_batch_rule_keyed_by_model_alone_leaves_logistics_delays_alone(make_desk, cli):
    def by_model(wb):
        ws = wb["升级规则"]
        for row in ws.iter_rows(min_row=2):
            if row[0].value == "批量":
                row[1].value = "数量=5; 天数=7; 键=型号"

    path = make_desk([t(datetime(2026, 10, d, 10), "物流延迟，快递三天没有更新") for d in (8, 9, 10, 11, 12)],
                     edit=by_model)
    refresh(cli, path)
    assert all(r["effective_priority"] == "P2" for r in register_rows(path).values())


@pytest.mark.parametrize("engine", ENGINES)
def test_a_compound_ticket_is_marked_and_works_with_the_other_categories_departments(make_desk, cli, engine):
    path = make_desk([
        t(datetime(2026, 10, 9, 10), "收到时外壳破损，快递包装也压坏了", category="产品质量类,物流类"),
        t(datetime(2026, 10, 9, 11), "机器无法开机", category="产品质量类"),
        t(datetime(2026, 10, 9, 12), "态度差，物流也慢", category="服务体验类、物流类", collaborators="仓储部"),
    ])
    use_engine(path, engine)
    refresh(cli, path)
    rows = register_rows(path)
    assert (rows[2]["department"], rows[2]["owner"], rows[2]["collaborators"]) == ("维修部", "李工", "物流部")
    assert rows[2]["category"] == "产品质量类,物流类"                      # what the clerk typed stays
    assert "复合型问题：主导分类 产品质量类（维修部），协同部门 物流部" in rows[2]["check"]
    assert rows[3]["collaborators"] == "技术部" and not rows[3]["check"]   # a single category: the matrix's own
    assert rows[4]["collaborators"] == "仓储部"                            # typed: kept
    assert "协同部门 仓储部" in rows[4]["check"]
    _, header, tracker = sheet_rows(path, "跟踪看板")
    by_customer = {r["反馈编号"]: r for r in tracker if r.get("反馈编号")}
    first = by_customer[rows[2]["id"]]
    assert first["问题分类"] == "产品质量类（复合型）" and first["协同部门"] == "物流部"
    assert by_customer[rows[3]["id"]]["问题分类"] == "产品质量类"
    assert header[-1] == "协同部门"


def test_the_english_template_has_the_seed_rules(tmp_path):
    ws = build_template("en")["Escalation"]
    names = [r[0] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
    assert names == ["Keyword", "Property damage", "Publicity", "Repeat complaint", "Emotion", "Batch", "VIP"]

from datetime import datetime, timedelta

from sheetdesk.rules.escalation import Candidate, escalate, read_rules
from sheetdesk.rules.records import Row, Table
from sheetdesk.rules.sla import Level, SlaTable
from sheetdesk.schema import ESCALATION

P0, P1, P2 = Level(2, "P0", 0, ("紧急",)), Level(3, "P1", 1, ("重要",)), Level(4, "P2", 2, ("一般",))
SLA = SlaTable([P0, P1, P2])


def rules_table(*rows):
    cols = {c.key: i for i, c in enumerate(ESCALATION.columns, 1)}
    return Table(ESCALATION, "升级规则", 1, cols,
                 [Row(i, dict(zip(("rule", "parameters", "level", "enabled"), r))) for i, r in enumerate(rows, 2)])


DEFAULT = rules_table(("关键词", "烫伤,过敏,起火", "P0", "是"),
                      ("批量", "数量=5; 天数=7; 维度=产品型号+问题分类", "P1", "是"),
                      ("VIP", "客户等级=VIP", "P1", "否"))


def cand(row, day, description="无法开机", product="XR-200", category="产品质量类", tier="普通", level=P2):
    return Candidate(row, datetime(2026, 11, 1, 9) + timedelta(days=day), description, product, category, tier, level)


def test_rules_are_read_from_the_sheet():
    rules, problems = read_rules(DEFAULT, SLA)
    assert problems == []
    assert [(r.kind, r.level.name, r.enabled) for r in rules] == [("keyword", "P0", True), ("batch", "P1", True),
                                                                  ("vip", "P1", False)]
    assert rules[1].count == 5 and rules[1].days == 7


def test_bad_rule_rows_are_reported():
    _, problems = read_rules(rules_table(("升天", "", "P0", "是"), ("关键词", "烫伤", "P9", "是"),
                                         ("批量", "数量=很多", "P1", "是")), SLA)
    assert [(p.row, p.column) for p in problems] == [(2, "rule"), (3, "level"), (4, "parameters")]


def test_keyword_raises_to_the_most_urgent_level_and_says_why():
    rules, _ = read_rules(DEFAULT, SLA)
    result = escalate([cand(2, 0, "使用时被烫伤，手背起泡"), cand(3, 0)], rules)
    assert result[2].level is P0 and "烫伤" in result[2].reason("zh")
    assert result[3].level is P2 and result[3].reason("zh") is None


def test_five_in_seven_days_is_a_batch_and_a_sixth_outside_is_not():
    rules, _ = read_rules(DEFAULT, SLA)
    cands = [cand(r, d) for r, d in ((2, 0), (3, 1), (4, 2), (5, 4), (6, 6.5), (7, 20))]
    cands.append(cand(8, 1, product="K5"))  # another product: not part of it
    result = escalate(cands, rules)
    batch = [r for r in result if result[r].batch_key]
    assert batch == [2, 3, 4, 5, 6]
    assert len({result[r].batch_key for r in batch}) == 1
    assert all(result[r].level is P1 for r in batch)
    assert result[7].level is P2 and result[7].batch_key is None
    assert "批量问题" in result[2].reason("zh")


def test_four_in_seven_days_is_not_a_batch():
    rules, _ = read_rules(DEFAULT, SLA)
    result = escalate([cand(r, d) for r, d in ((2, 0), (3, 1), (4, 2), (5, 7.5))], rules)
    assert not any(e.batch_key for e in result.values())


def test_escalation_never_lowers_and_vip_is_off_by_default():
    rules, _ = read_rules(DEFAULT, SLA)
    result = escalate([cand(2, 0, level=P0, tier="VIP")] + [cand(r, 0.1 * r) for r in range(3, 8)], rules)
    assert result[2].level is P0
    on, _ = read_rules(rules_table(("VIP", "客户等级=VIP", "P1", "是")), SLA)
    assert escalate([cand(2, 0, tier="VIP")], on)[2].level is P1

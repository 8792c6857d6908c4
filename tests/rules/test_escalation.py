from datetime import datetime, timedelta

from sheetdesk.rules.contacts import contact_keys
from sheetdesk.rules.escalation import Candidate, escalate, read_rules
from sheetdesk.rules.records import Row, Table
from sheetdesk.rules.repeats import Contact, repeat_words, repeats
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


# --- 财产损失, 舆情, 重复投诉, 情绪 (issue 17 item 5) and batches without a model (item 6) ---------------

SEED_RULES = rules_table(("财产损失", "财产损失,泡坏,烧毁", "P0", "是"),
                         ("舆情", "欺诈,骗子,315,12315,媒体,曝光", "P0", "是"),
                         ("重复投诉", "天数=30", "P1", "是"),
                         ("情绪", "情绪=愤怒; 关键词=第N次,多次投诉", "P1", "是"),
                         ("批量", "数量=5; 天数=7; 键=型号或关键词", "P1", "是"))


def seed_rules():
    rules, problems = read_rules(SEED_RULES, SLA)
    assert problems == []
    return rules


def test_new_rule_rows_are_read_with_their_parameters():
    property_, publicity, repeat, emotion, batch = seed_rules()
    assert (property_.kind, publicity.kind, repeat.kind, emotion.kind) == ("property", "publicity", "repeat", "emotion")
    assert repeat.days == 30 and repeat.level is P1
    assert emotion.emotions == ("愤怒",) and emotion.words == ("第N次", "多次投诉")
    assert batch.key == "model-or-keyword"
    old, _ = read_rules(rules_table(("批量", "数量=5; 天数=7", "P1", "是")), SLA)
    assert old[0].key == "model"  # a row written before the key existed keeps grouping by model


def test_bad_new_rule_rows_are_reported():
    _, problems = read_rules(rules_table(("舆情", "", "P0", "是"), ("重复投诉", "天数=很久", "P1", "是"),
                                         ("批量", "数量=5; 键=颜色", "P1", "是")), SLA)
    assert [(p.row, p.column) for p in problems] == [(2, "parameters"), (3, "parameters"), (4, "parameters")]
    assert "舆情规则没有关键词" in problems[0].zh and "键=型号或关键词" in problems[2].zh


def test_property_damage_and_public_accusations_go_to_the_top_level_naming_the_rule():
    result = escalate([cand(2, 0, "热水器漏水把木地板泡坏了"), cand(3, 0, "你们就是骗子，我要投诉到12315"),
                       cand(4, 0, "订单号 2026031512 无法开机"), cand(5, 0, "3月15日买的，无法开机")], seed_rules())
    assert result[2].level is P0 and result[2].reason("zh") == "财产损失“泡坏”→P0"
    assert result[3].level is P0 and result[3].reason("zh") == "舆情“骗子、12315”→P0"
    assert result[3].reason("en") == "publicity '骗子, 12315' → P0"
    # 315 only as a number of its own: not inside an order number
    assert result[4].level is P2 and result[5].level is P2


def contact_cand(row, day, phone, ticket_id, closed_day=None, **kw):
    c = cand(row, day, product="", category="其他类", **kw)
    c.ticket_id, c.contacts = ticket_id, contact_keys(phone)
    c.closed_at = None if closed_day is None else datetime(2026, 11, 1, 9) + timedelta(days=closed_day)
    return c


def test_the_same_contact_again_while_open_or_soon_after_closing_is_a_repeat():
    cands = [contact_cand(2, 0, "13812345678", "202611-001"),                 # open
             contact_cand(3, 2, "+86 138 1234 5678", "202611-002"),           # the same customer: repeat
             contact_cand(4, 0, "13900000001", "202611-003", closed_day=1),
             contact_cand(5, 20, "13900000001", "202611-004"),                # closed 19 days before: repeat
             contact_cand(6, 0, "13700000002", "202611-005", closed_day=1),
             contact_cand(7, 40, "13700000002", "202611-006"),                # closed 39 days before: not
             contact_cand(8, 3, "13600000003", "202611-007")]                 # someone else
    result = escalate(cands, seed_rules())
    assert result[2].level is P2 and result[2].reason("zh") is None          # the first complaint stays
    assert result[3].level is P1
    assert result[3].reason("zh") == "重复投诉（同一联系方式，工单202611-001未关闭）→至少P1"
    assert result[5].level is P1 and "工单202611-003于11-02关闭" in result[5].reason("zh")
    assert result[7].level is P2 and result[8].level is P2


def test_repeats_compare_with_the_earlier_ticket_that_stayed_open_longest():
    rows = [Contact(2, datetime(2026, 11, 1), ("a",), "A"),                              # still open
            Contact(3, datetime(2026, 11, 2), ("a",), "B", closed_at=datetime(2026, 11, 3)),
            Contact(4, datetime(2026, 12, 30), ("a",), "C")]
    found = repeats(rows, 30)
    assert found[3].earlier_id == "A" and found[4].earlier_id == "A"
    assert repeats(rows, 0).keys() == {3, 4}
    assert repeats([Contact(2, datetime(2026, 11, 1), ("a",), "A"), Contact(3, datetime(2026, 11, 2), ("b",), "B")],
                   30) == {}


def test_an_angry_customer_complaining_again_is_raised_but_not_on_a_first_time():
    cands = [cand(2, 0, "这是我第三次打电话了，还是没人处理"), cand(3, 0, "第一次用就坏了"),
             cand(4, 0, "已经多次投诉"), cand(5, 0, "这是我第3次反映")]
    cands[0].emotion, cands[1].emotion, cands[2].emotion, cands[3].emotion = "愤怒", "愤怒", "平静", "愤怒"
    result = escalate(cands, seed_rules())
    assert result[2].level is P1 and result[2].reason("zh") == "情绪：愤怒且“第三次”→至少P1"
    assert result[3].level is P2                                              # 第一次 is not a repeat
    assert result[4].level is P2                                              # not angry
    assert result[5].level is P1
    assert repeat_words("第 几 次了", ("第N次",)) == ["第 几 次"]


def test_five_logistics_delays_without_a_model_are_a_batch_by_category_and_keyword():
    cands = [cand(r, d, "物流延迟，快递三天没动", product="", category="物流类") for r, d in
             ((2, 0), (3, 1), (4, 2), (5, 3), (6, 4))]
    for c in cands:
        c.keyword = "物流"
    cands.append(cand(7, 1, "物流延迟", product="", category="物流类"))  # no keyword matched: not grouped
    result = escalate(cands, seed_rules())
    assert [r for r in result if result[r].batch_key] == [2, 3, 4, 5, 6]
    assert result[2].batch_key == "物流类+物流@20261101"
    assert "批量问题 物流类+物流@20261101（7天内5单）→至少P1" in result[2].reason("zh")
    by_model, _ = read_rules(rules_table(("批量", "数量=5; 天数=7; 键=型号", "P1", "是")), SLA)
    assert not any(e.batch_key for e in escalate(cands, by_model).values())


def test_a_model_still_keys_the_batch_and_a_compound_category_counts_by_its_lead():
    cands = [cand(r, r, category="产品质量类" if r % 2 else "产品质量类,物流类") for r in range(2, 7)]
    result = escalate(cands, seed_rules())
    assert {result[r].batch_key for r in range(2, 7)} == {"XR-200+产品质量类@20261103"}

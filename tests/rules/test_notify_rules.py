"""The group message as data: order, masking, mentions, each app's limit and the cut lists."""

from __future__ import annotations

import json
from datetime import datetime

from sheetdesk.rules import notify
from sheetdesk.rules.staff import Person, missing_owners
from sheetdesk.rules.standup import Item, Standup
from sheetdesk.rules.workdays import WorkCalendar

NOW = datetime(2026, 10, 9, 9, 0)  # the Friday after National Day (Oct 1-8 off, Sat Oct 10 a make-up day)


def standup(late: int = 3, soon: int = 1) -> Standup:
    s = Standup(NOW, datetime(2026, 10, 10, 9), datetime(2026, 9, 30, 9))
    s.late = [Item(f"202609-{i:03d}", "王小明", "李工" if i == 0 else f"工程师{i}", "P2" if i else "P0",
                   "first_response", datetime(2026, 9, 30), 3600.0 * (i + 1), True, row=i + 2, rank=2 if i else 0)
              for i in range(late)]
    s.due_soon = [Item(f"202610-{i:03d}", "Li <@all>", "王工", "P1", "closed", datetime(2026, 10, 10, 12), 1800.0,
                       row=100 + i, rank=1) for i in range(soon)]
    s.by_owner = {"李工": {"open": late + soon, "late": late}}
    return s


def test_late_first_most_urgent_then_most_late_masked_and_clean():
    d = notify.build_digest(standup(), WorkCalendar(), "zh")
    late = d.sections[0]
    assert late.key == "late" and late.title == "已超时（3）"
    assert late.lines[0].startswith("202609-000 王** · P0 · 李工")  # P0 first although least late
    assert late.lines[1].startswith("202609-002")  # then the most late
    soon = d.sections[1].lines[0]
    assert "<@all>" not in soon and "L******" in soon
    assert "下次晨会 10-10 09:00" in d.subtitle  # the make-up Saturday is the next working day
    assert d.total == "共 4 件未结：超时 3，下次晨会前到期 1，重新打开 0，未分派 0，待回访 0"
    assert d.mention_owners == ["李工"]


def test_names_shown_when_the_desk_says_so():
    d = notify.build_digest(standup(), WorkCalendar(), "en", show_names=True)
    assert "王小明" in d.sections[0].lines[0] and d.sections[0].title == "Late (3)"


def test_each_platform_within_its_limit_and_the_cut_says_how_many_more():
    d = notify.build_digest(standup(late=400), WorkCalendar(), "zh")
    people = [Person("李工", wecom_id="ligong", dingtalk_mobile="13900001111", feishu_id="ou_1")]
    content = notify.wecom(d, people)["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert "… 另有" in content and "条，见工作簿" in content and "<@ligong>" in content
    shown = content.count("\n- 202609-")
    assert f"… 另有 {400 - shown} 条，见工作簿" in content
    ding = notify.dingtalk(d, people)
    assert len(ding["markdown"]["text"].encode()) <= 20000 and ding["at"]["atMobiles"] == ["13900001111"]
    for style in ("post", "card"):
        body = notify.feishu(d, people, style)
        assert len(json.dumps(body, ensure_ascii=False).encode()) <= notify.LIMITS["feishu"]
    tight = notify.wecom(d, people, limit=600)["markdown"]["content"]
    assert len(tight.encode()) <= 600 and "共 401 件未结" in tight and "另有" in tight


def test_group_lists_show_at_most_twenty_lines_mail_more():
    d = notify.build_digest(standup(late=50), WorkCalendar(), "zh")
    assert notify.wecom(d, [])["markdown"]["content"].count("\n- 202609-") == notify.GROUP_LINES
    assert notify.mail(d)[1].count("  - 202609-") == 50


def test_mentions_only_for_people_with_the_platform_id_and_active():
    d = notify.build_digest(standup(), WorkCalendar(), "zh")
    assert notify.mentioned(d, [Person("李工", active=False, wecom_id="x")], "wecom") == []
    assert notify.mentioned(d, [Person("李 工", mobile="13700000000")], "dingtalk") == ["13700000000"]
    assert notify.mentioned(d, [Person("李工", mobile="13700000000")], "feishu") == []


def test_missing_owners_note_once_on_the_first_row():
    people = [Person("李工", row=2)]
    [note] = missing_owners(people, ["李工", "老周", "老周", "", "小陈"], 2)
    assert note.row == 2 and note.level == "info" and "老周、小陈" in note.zh
    assert missing_owners([], ["老周"], None) == []

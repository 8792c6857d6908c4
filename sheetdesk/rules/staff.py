"""The 人员 / Staff sheet: who the group message may @-mention, and how each app names them.

A person is matched to 责任人 by name (spaces ignored). Owners of the register the sheet does not
list are a note in the staff sheet's 校验 (on its first row), never an error: the message then names
them without a mention. A desk whose staff sheet is empty does not use mentions and gets no note.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sheetdesk.rules.problems import INFO, WARNING, Problem
from sheetdesk.rules.records import Table

#: what 在职 / Active may say for someone who left (empty or anything else: active)
INACTIVE = frozenset({"否", "n", "no", "false", "0", "离职", "停用", "inactive", "left", "×", "x"})
#: the most names one note lists before "等 N 人"
NOTE_NAMES = 10


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    department: str = ""
    mobile: str = ""
    wecom_id: str = ""
    dingtalk_mobile: str = ""
    feishu_id: str = ""
    email: str = ""
    active: bool = True
    row: int = 0

    @property
    def dingtalk(self) -> str:
        """The mobile 钉钉 mentions by: its own column, else the person's mobile."""
        return self.dingtalk_mobile or self.mobile


def name_key(name: str) -> str:
    return "".join(str(name).split())


def read_staff(table: Table | None) -> tuple[list[Person], list[Problem]]:
    """The people of the sheet, and a warning for a name typed on two rows (the first row counts)."""
    if table is None:
        return [], []
    people: list[Person] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for r in table.rows:
        name = r.text("name")
        if not name:
            problems.append(Problem("staff", r.row, "name", "姓名为空：填写姓名，或删除此行",
                                    "name is missing: fill it in or delete the row", WARNING))
            continue
        key = name_key(name)
        if key in seen:
            problems.append(Problem("staff", r.row, "name", f"与第{seen[key]}行重名，@提醒用第{seen[key]}行",
                                    f"same name as row {seen[key]}; mentions use row {seen[key]}", WARNING))
            continue
        seen[key] = r.row
        active = r.text("active").strip().lower() not in INACTIVE
        people.append(Person(name, r.text("department"), r.text("mobile"), r.text("wecom_id"),
                             r.text("dingtalk_mobile"), r.text("feishu_id"), r.text("email"), active, r.row))
    return people, problems


def missing_owners(people: list[Person], owners: Iterable[str], first_row: int | None) -> list[Problem]:
    """A note on the staff sheet's first row naming the register's owners it does not list (each
    once, in the order met). Nothing when the sheet lists nobody: mentions are not in use."""
    if not people or first_row is None:
        return []
    known = {name_key(p.name) for p in people}
    missing: list[str] = []
    for owner in owners:
        key = name_key(owner)
        if key and key not in known and owner.strip() not in missing:
            missing.append(owner.strip())
    if not missing:
        return []
    shown = missing[:NOTE_NAMES]
    more_zh = f" 等 {len(missing)} 人" if len(missing) > NOTE_NAMES else ""
    more_en = f" and {len(missing) - NOTE_NAMES} more" if len(missing) > NOTE_NAMES else ""
    return [Problem("staff", first_row, None,
                    f"登记表的责任人 {'、'.join(shown)}{more_zh} 不在人员表中：群消息无法 @ 提醒，可在此表补上",
                    f"register owner(s) {', '.join(shown)}{more_en} are not on this sheet: group messages "
                    "cannot @-mention them; add them here", INFO)]


def by_name(people: Iterable[Person]) -> dict[str, Person]:
    """Active people by their name key."""
    return {name_key(p.name): p for p in people if p.active}

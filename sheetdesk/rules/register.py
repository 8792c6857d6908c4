"""The register (登记表) rules: validate each row, number it, route it.

Pure: takes the register as records plus the desk's reference data, returns the values to write
(only into blank cells of people's columns, or into sheetdesk's own columns) and the problems.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sheetdesk.rules import dates
from sheetdesk.rules.contacts import check_contact
from sheetdesk.rules.ids import IdRow, plan_ids
from sheetdesk.rules.problems import ERROR, INFO, WARNING, Problem, row_list
from sheetdesk.rules.records import Row, Table
from sheetdesk.rules.routing import Matrix, split_categories
from sheetdesk.rules.sla import Level, SlaTable
from sheetdesk.schema import REGISTER, normalise_header

#: columns the routing may fill when blank, in this order
ROUTED = ("department", "owner", "collaborators", "priority")


@dataclass
class Lists:
    """Allowed values for the dropdown columns (from the 选项 sheet)."""
    channel: list[str]
    tier: list[str]
    emotion: list[str]

    def allows(self, key: str, value: str) -> bool:
        allowed = getattr(self, key)
        if not allowed:
            return True
        cache = self.__dict__.setdefault("_normalised", {})
        if key not in cache:
            cache[key] = {normalise_header(v) for v in allowed}
        return value in cache[key] or normalise_header(value) in cache[key]


@dataclass(slots=True)
class Ticket:
    """What the later stages (SLA, tracker, reports) need of a register row."""
    row: int
    id: str | None
    received: datetime | None
    customer: str
    category: str
    level: Level | None
    department: str
    owner: str
    values: Mapping[str, object]
    #: no priority was typed or routed (or it is unknown): timed at the desk's default level
    untriaged: bool = False
    #: 协同部门 as typed or routed
    collaborators: str = ""
    #: 复合型: several categories; the first leads
    compound: bool = False

    @property
    def lead_category(self) -> str:
        parts = split_categories(self.category)
        return parts[0] if parts else self.category


@dataclass
class RegisterPlan:
    #: (row, column key) -> value to write
    writes: dict[tuple[int, str], object] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    counter: dict[str, int] = field(default_factory=dict)
    tickets: list[Ticket] = field(default_factory=list)
    issued: dict[int, str] = field(default_factory=dict)
    routed: int = 0
    #: ticket ID -> the register rows holding it, for IDs typed on more than one row: each row is its
    #: own ticket, and no log or results row with that ID is given to either
    conflicts: dict[str, list[int]] = field(default_factory=dict)

    #: ticket ID -> the category sheetdesk filled and nobody has changed since (the hidden sheet
    #: remembers it, so its suggestion note stays until a person decides)
    filled: dict[str, str] = field(default_factory=dict)
    filled_changed: bool = False

    @property
    def filled_if_changed(self) -> dict[str, str] | None:
        """What the hidden sheet must remember now, or None when it already does."""
        return self.filled if self.filled_changed else None


def _p(row: int, column: str | None, zh: str, en: str, level: str = ERROR, value: object = None) -> Problem:
    return Problem("register", row, column, zh, en, level, value)


def _short(values: list[str], limit: int = 8) -> tuple[str, str]:
    head = values[:limit]
    more = len(values) > limit
    return "、".join(head) + ("等" if more else ""), ", ".join(head) + (", …" if more else "")


def plan_register(
    table: Table,
    matrix: Matrix,
    sla: SlaTable,
    lists: Lists,
    counter: dict[str, int],
    now: datetime,
    date1904: bool = False,
    default_level: Level | None = None,
    filled: dict[str, str] | None = None,
) -> RegisterPlan:
    """``default_level``: the level a ticket without a known priority is timed at ([sla] default_level);
    ``filled``: ticket ID -> the category an earlier refresh filled (see :attr:`RegisterPlan.filled`)."""
    plan = RegisterPlan()
    received: dict[int, datetime | None] = {}

    for row in table.rows:
        received[row.row] = _check_row(row, plan, lists, now, date1904)

    id_plan = plan_ids(
        [IdRow(r.row, received[r.row], r.text("id") or None) for r in table.rows], counter)
    plan.counter = id_plan.counter
    plan.issued = id_plan.issued
    for row_no, new_id in id_plan.issued.items():
        plan.writes[(row_no, "id")] = new_id
    for row_no, (kind, detail) in id_plan.problems.items():
        typed = next(r.text("id") for r in table.rows if r.row == row_no)
        if kind == "malformed":
            plan.problems.append(_p(row_no, "id", f"编号“{typed}”格式不对，应为 年月-流水号，如 202611-001；留空则自动编号",
                                    f"ID '{typed}' is malformed; expected YYYYMM-NNN such as 202611-001, or leave it blank",
                                    value=typed))
        else:
            plan.problems.append(_p(row_no, "id", f"编号“{typed}”的月份与反馈时间的月份 {detail} 不一致",
                                    f"ID '{typed}' does not match the received month {detail}",
                                    WARNING, typed))
    plan.conflicts = id_plan.duplicates
    for typed, rows in id_plan.duplicates.items():
        for row_no in rows:
            plan.problems.append(_duplicate_problem(row_no, typed, rows))
    for row in table.rows:
        if not row.text("id") and received[row.row] is None:
            plan.problems.append(_p(row.row, "id", "未编号：反馈时间缺失或无法识别，补全后下次刷新自动编号",
                                    "not numbered: the received time is missing or unreadable; fix it and refresh",
                                    INFO))

    seen: set[str] = set()
    shared: set[str] = set()  # IDs on more than one row: those rows are remembered by row number
    for row in table.rows:
        typed_id = row.text("id")
        if typed_id:
            (shared if typed_id in seen else seen).add(typed_id)
    for row in table.rows:
        plan.tickets.append(_route(row, plan, matrix, sla, received[row.row], filled or {}, shared, default_level))

    plan.filled_changed = plan.filled != (filled or {})
    # deterministic order: by row, then column order of the sheet
    order = {c.key: i for i, c in enumerate(REGISTER.columns)}
    plan.problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", 99)))
    return plan


def _duplicate_problem(row: int, typed: str, rows: list[int]) -> Problem:
    """The message on each row of a duplicated ID, naming the others."""
    zh_rows, en_rows = row_list(rows, skip=row)
    return _p(row, "id",
              f"编号“{typed}”与第{zh_rows}行重复：各行按各自的客户分别计时跟踪，进度跟踪和处理结果中该编号的记录不计入任何一行；"
              f"请改正重复的编号（不会自动改号）",
              f"ID '{typed}' is also on row{'s' if len(rows) > 2 else ''} {en_rows}: each row is tracked and timed "
              f"as its own ticket, and no Progress or Results row with this ID counts for either; correct the "
              f"duplicate ID (never renumbered automatically)",
              value=typed)


def _check_row(row: Row, plan: RegisterPlan, lists: Lists, now: datetime, date1904: bool) -> datetime | None:
    for col in REGISTER.columns:
        if col.required and not row.text(col.key) and col.key != "received":
            plan.problems.append(_p(row.row, col.key, "必填项为空", "required value is missing"))

    moment: datetime | None = None
    raw = row.get("received")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        plan.problems.append(_p(row.row, "received", "必填项为空，应为日期时间，如 2026-11-17 09:30",
                                "required value is missing; expected a date and time such as 2026-11-17 09:30"))
    else:
        moment, ok = dates.to_datetime(raw, date1904)
        if not ok:
            plan.problems.append(_p(row.row, "received",
                                    f"无法识别的时间“{row.text('received')}”，应为日期时间，如 2026-11-17 09:30",
                                    f"cannot read '{row.text('received')}' as a time; expected e.g. 2026-11-17 09:30",
                                    value=raw))
        elif moment is not None and moment > now:
            plan.problems.append(_p(row.row, "received", f"反馈时间 {dates.fmt(moment)} 晚于当前时间 {dates.fmt(now)}",
                                    f"received time {dates.fmt(moment)} is in the future (now {dates.fmt(now)})",
                                    value=raw))

    for key, zh_name in (("channel", "渠道"), ("tier", "客户等级"), ("emotion", "客户情绪")):
        value = row.text(key)
        if value and not lists.allows(key, value):
            zh_list, en_list = _short(getattr(lists, key))
            plan.problems.append(_p(row.row, key, f"未知{zh_name}“{value}”，应为选项表中的一项：{zh_list}",
                                    f"unknown value '{value}'; expected one of the Lists sheet: {en_list}",
                                    value=value))

    bad = check_contact(row.get("contact"), row.text("channel"))
    if bad:
        plan.problems.append(_p(row.row, "contact", f"“{'、'.join(bad)}”不是有效的电话、邮箱或微信号，应为手机号、带区号的座机、"
                                "400号码、邮箱地址或微信号（如 微信：abc_123）",
                                f"'{', '.join(bad)}' is not a valid phone number, email or WeChat ID; expected a mobile, a landline "
                                "with area code, a 400 number, an email or a WeChat ID (e.g. wx: abc_123)",
                                value=row.get("contact")))

    raw_purchase = row.get("purchase_date")
    if raw_purchase is not None and str(raw_purchase).strip():
        bought, ok = dates.to_date(raw_purchase, date1904)
        if not ok:
            plan.problems.append(_p(row.row, "purchase_date", f"无法识别的日期“{row.text('purchase_date')}”，应为日期，如 2026-05-20",
                                    f"cannot read '{row.text('purchase_date')}' as a date; expected e.g. 2026-05-20",
                                    value=raw_purchase))
        elif moment is not None and bought is not None and bought > moment.date():
            plan.problems.append(_p(row.row, "purchase_date", "购买日期晚于反馈时间", "purchase date is after the received time",
                                    WARNING, raw_purchase))
    return moment


@functools.lru_cache(maxsize=1024)
def _suggested_texts(suggested: str, words: tuple[str, ...]) -> tuple[str, str]:
    """The note on a keyword-suggested category: the same few texts on most rows of an archive."""
    return (f"按关键词“{'、'.join(words)}”归为“{suggested}”（建议，请核对）",
            f"'{suggested}' suggested by keyword '{', '.join(words)}' (please check)")


@functools.lru_cache(maxsize=256)
def _compound_texts(lead: str, department: str, collaborators: str) -> tuple[str, str]:
    """The note on a 复合型 ticket: which category leads and who works with it."""
    zh = f"复合型问题：主导分类 {lead}" + (f"（{department}）" if department else "")
    en = f"compound problem: {lead} leads" + (f" ({department})" if department else "")
    if collaborators:
        zh += f"，协同部门 {collaborators}"
        en += f"; collaborating: {collaborators}"
    return zh, en


@functools.lru_cache(maxsize=64)
def _default_texts(kind: str, name: str) -> tuple[str, str]:
    """The note on a ticket timed at the default level (a few texts shared by every such row)."""
    if kind == "unknown":
        return f"；暂按默认等级 {name} 计时", f"; timed at the default level {name} meanwhile"
    if kind == "unclassified":
        return f"未分类，按默认等级 {name} 计时", f"unclassified; timed at the default level {name}"
    return f"未定级，按默认等级 {name} 计时", f"no priority; timed at the default level {name}"


def note_escalated_defaults(plan: RegisterPlan, raised: dict[int, tuple[str, str]]) -> None:
    """An untriaged ticket that escalation raised is timed at the raised level, not the default: its
    note (written before the rules ran) says so. ``raised``: row -> (default level, raised level)."""
    for i, p in enumerate(plan.problems):
        if p.sheet == "register" and p.row in raised and p.column == "priority":
            default, level = raised[p.row]
            plan.problems[i] = replace(
                p, zh=p.zh.replace(f"按默认等级 {default} 计时", f"按升级后的等级 {level} 计时（默认等级 {default}）"),
                en=p.en.replace(f"timed at the default level {default}",
                                f"timed at the escalated level {level} (default level {default})"))


def _route(row: Row, plan: RegisterPlan, matrix: Matrix, sla: SlaTable, received: datetime | None,
           remembered: dict[str, str], shared: set[str], default_level: Level | None = None) -> Ticket:
    typed_category = row.text("category")
    category = typed_category
    ticket_id = row.text("id") or plan.issued.get(row.row)
    # the category sheetdesk filled on an earlier refresh, while the cell still holds it: by ID, or
    # by row for a row without an ID of its own (its received time unreadable, or a duplicated ID)
    row_key = f"row:{row.row}"
    key = ticket_id if ticket_id and ticket_id not in shared else row_key
    own = remembered.get(key)
    if own is None and key != row_key and not row.text("id"):  # numbered in this run
        own = remembered.get(row_key)
    if own is not None and normalise_header(typed_category) != normalise_header(own):
        own = None  # a person changed (or cleared) it: theirs now, no note
    if typed_category:
        unknown = [c for c in split_categories(typed_category) if matrix.get(c) is None]
        if unknown and matrix.entries:
            zh_list, en_list = _short(matrix.categories())
            plan.problems.append(_p(row.row, "category", f"分类“{'、'.join(unknown)}”不在分类矩阵中，应为：{zh_list}",
                                    f"category '{', '.join(unknown)}' is not in the matrix; expected one of: {en_list}",
                                    value=typed_category))
    matches = matrix.match_keywords(row.text("description")) if row.text("description") else {}
    if len(matches) == 1 and not typed_category:
        (suggested, _), = matches.items()
        category = own = suggested
        plan.writes[(row.row, "category")] = suggested
    if own is not None:  # a suggestion no person has confirmed or changed: say so (a typed one is theirs)
        plan.filled[key] = own
        words = next((w for name, w in matches.items() if normalise_header(name) == normalise_header(own)), None)
        if words:
            zh, en = _suggested_texts(own, tuple(words))
            plan.problems.append(_p(row.row, "category", zh, en, INFO))
    elif len(matches) > 1 and not typed_category:
        names = list(matches)
        plan.problems.append(_p(row.row, "category", f"描述同时符合 {'、'.join(names)}，请手工选择分类",
                                f"description matches {', '.join(names)}; choose the category by hand", INFO))

    lead = split_categories(category) if category else []
    entry = matrix.get(lead[0]) if lead else None  # "," alone names no category
    values = {key: row.text(key) for key in ROUTED}
    compound = len(lead) > 1
    if entry is not None:
        filled = False
        # a 复合型 ticket's collaborators are its other categories' departments
        routed = {key: getattr(entry, key) for key in ROUTED}
        if compound:
            routed["collaborators"] = matrix.collaborators_of(lead)
        for key in ROUTED:
            if not values[key] and routed[key]:
                values[key] = routed[key]
                plan.writes[(row.row, key)] = values[key]
                filled = True
        plan.routed += filled
        if compound:
            zh, en = _compound_texts(lead[0], values["department"], values["collaborators"])
            plan.problems.append(_p(row.row, "category", zh, en, INFO))

    level = None
    # a ticket nobody has triaged yet is still timed: at the default level, said in 校验 (the typed
    # 优先级 stays blank; 生效优先级 shows the level used). A row without a received time is not timed.
    if values["priority"]:
        level = sla.resolve(values["priority"])
    untriaged = level is None and default_level is not None and received is not None
    if level is None and values["priority"] and sla.levels and row.text("priority"):
        zh, en = (_default_texts("unknown", default_level.name) if untriaged and default_level is not None
                  else ("", ""))
        plan.problems.append(_p(row.row, "priority", f"未知优先级“{values['priority']}”，应为：{'、'.join(sla.names())}（或其别名）{zh}",
                                f"unknown priority '{values['priority']}'; expected one of: {', '.join(sla.names())} (or an alias){en}",
                                value=values["priority"]))
    elif untriaged and default_level is not None:  # (untriaged implies a default level)
        zh, en = _default_texts("unclassified" if entry is None else "no_priority", default_level.name)
        plan.problems.append(_p(row.row, "priority", zh, en, INFO))
    if untriaged:
        level = default_level
    return Ticket(row.row, ticket_id, received, row.text("customer"), category, level,
                  values["department"], values["owner"], row.values, untriaged,
                  values["collaborators"], compound)

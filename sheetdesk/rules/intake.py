"""Intake on time (seed 001): a complaint is registered within a limit that depends on its channel.

The register's 登记时间 (entered) says when a row was registered: ``add`` and ``import`` stamp it
with the desk's clock, and a refresh stamps a typed row the first time it sees it. That first-seen
stamp is when sheetdesk first saw the row, not when the clerk typed it, so it is never judged; the
hidden sheet remembers it (``entered:<ID>``) so a later refresh still knows it for what it is. Every
other 登记时间 (stamped by add/import, or typed by a person) is compared with the 反馈时间 and the
channel's 登记时限 (选项 sheet): registered later than that is a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sheetdesk.rules import dates
from sheetdesk.rules.durations import Duration, DurationError, due_time, parse_duration
from sheetdesk.rules.problems import ERROR, WARNING, Problem
from sheetdesk.rules.records import Table
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import DEFAULT_CHANNELS, EN_LIST_VALUES, normalise_header

LIVE, WRITTEN = "10分钟", "1个工作日"
#: the template's 登记时限 per default channel (zh name): seed 001's 10 minutes for a conversation
#: (phone, chat, WeChat), seed 003's 1 working day for what arrives in writing or is collected later
#: (mail, forms, reviews, social posts, a store's comment book, an engineer's visit report)
DEFAULT_LIMITS: dict[str, str] = {
    "电话": LIVE, "400热线": LIVE, "在线客服": LIVE, "微信": LIVE, "企业微信": LIVE,
    "邮件": WRITTEN, "官网留言": WRITTEN, "APP": WRITTEN, "公众号": WRITTEN, "电商平台评价": WRITTEN,
    "微博": WRITTEN, "小红书": WRITTEN, "门店": WRITTEN, "上门服务": WRITTEN, "抖音": WRITTEN,
    "快手": WRITTEN, "京东": WRITTEN, "淘宝/天猫": WRITTEN, "拼多多": WRITTEN,
}
#: the key the hidden sheet remembers a first-seen stamp under (``entered:202611-001``)
MEMORY_PREFIX = "entered:"


def default_limit(channel_zh: str, lang: str = "zh") -> str:
    """The template's 登记时限 of a default channel, written in the desk's language."""
    text = DEFAULT_LIMITS.get(channel_zh, "")
    return text if lang == "zh" or not text else {LIVE: "10m", WRITTEN: "1wd"}[text]


def _defaults() -> dict[str, Duration]:
    out: dict[str, Duration] = {}
    for zh, en in zip(DEFAULT_CHANNELS, EN_LIST_VALUES["channel"], strict=True):
        limit = parse_duration(DEFAULT_LIMITS.get(zh))
        if limit is not None:
            out[normalise_header(zh)] = out[normalise_header(en)] = limit
    return out


@dataclass
class IntakeLimits:
    """normalised channel -> its 登记时限; a channel that is not here is not checked."""
    limits: dict[str, Duration] = field(default_factory=dict)

    def of(self, channel: str) -> Duration | None:
        return self.limits.get(normalise_header(channel)) if channel else None


def read_limits(table: Table | None) -> tuple[IntakeLimits, list[Problem]]:
    """The 登记时限 column beside 反馈渠道 in the 选项 sheet. No sheet, no channels, or a 选项 sheet
    without the column (a desk made before it existed): the template's limits of the default channels.
    A blank limit: that channel's registration is not timed."""
    if table is None or not table.has("intake_limit") or not any(r.text("channel") for r in table.rows):
        return IntakeLimits(_defaults()), []
    limits: dict[str, Duration] = {}
    problems: list[Problem] = []
    for row in table.rows:
        channel = row.text("channel")
        if not channel:
            continue
        try:
            limit = parse_duration(row.get("intake_limit"))
        except DurationError as exc:
            problems.append(Problem("lists", row.row, "intake_limit", exc.zh, exc.en, ERROR, row.get("intake_limit")))
            continue
        if limit is not None:
            limits[normalise_header(channel)] = limit
    return IntakeLimits(limits), problems


@dataclass(frozen=True)
class IntakeRow:
    """What the intake rule needs of a register row."""
    row: int
    id: str | None
    channel: str
    received: datetime | None
    entered: object  # the 登记时间 cell as read
    #: appended by add/import in this run: stamped, and judged like a typed time
    appended: bool = False


@dataclass
class IntakePlan:
    #: row -> the stamp to write into its blank 登记时间
    stamps: dict[int, datetime] = field(default_factory=dict)
    #: ticket ID -> its first-seen stamp as remembered (``dates.fmt``): the hidden sheet's memory
    first_seen: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: typed rows stamped in this run with when sheetdesk first saw them
    stamped_first_seen: int = 0

    def memory(self) -> dict[str, str]:
        return {MEMORY_PREFIX + ticket: stamp for ticket, stamp in self.first_seen.items()}


def split_memory(remembered: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The hidden sheet's memory as (the other entries, ticket ID -> first-seen stamp)."""
    other = {k: v for k, v in remembered.items() if not k.startswith(MEMORY_PREFIX)}
    seen = {k[len(MEMORY_PREFIX):]: v for k, v in remembered.items() if k.startswith(MEMORY_PREFIX)}
    return other, seen


def plan_intake(rows: Iterable[IntakeRow], limits: IntakeLimits, first_seen: Mapping[str, str],
                cal: WorkCalendar, now: datetime, date1904: bool = False, stamping: bool = True) -> IntakePlan:
    """Stamp blank 登记时间 cells (``stamping``: False for a read-only run) and judge the others.

    ``first_seen``: ticket ID -> the first-seen stamp an earlier refresh remembered. A row keeps that
    status while its cell still holds the stamp; a person's change makes it theirs, and judged."""
    plan = IntakePlan()
    stamp = now.replace(second=0, microsecond=0)
    for r in rows:
        raw = r.entered
        blank = raw is None or (isinstance(raw, str) and not raw.strip())
        if blank:
            if not stamping or not r.id:
                continue  # a row without an ID is not a ticket yet: stamped once it is numbered
            plan.stamps[r.row] = stamp
            if r.appended:
                entered: datetime | None = stamp
            else:  # said once, by the run (a note in 校验 would change the row again on the next refresh)
                plan.first_seen[r.id] = dates.fmt(stamp)
                plan.stamped_first_seen += 1
                continue
        else:
            entered, ok = dates.to_datetime(raw, date1904)
            if not ok or entered is None:
                plan.problems.append(Problem(
                    "register", r.row, "entered", f"无法识别的时间“{raw}”，应为日期时间，如 2026-11-17 09:40；"
                    "留空则由 sheetdesk 填写", f"cannot read '{raw}' as a time; expected e.g. 2026-11-17 09:40, or "
                    "leave it blank for sheetdesk", WARNING, raw))
                continue
            if r.id and first_seen.get(r.id) == dates.fmt(entered):
                plan.first_seen[r.id] = first_seen[r.id]
                continue
        late = _late(r, entered, limits, cal) if entered is not None else None
        if late is not None:
            plan.problems.append(late)
    return plan


def _late(r: IntakeRow, entered: datetime, limits: IntakeLimits, cal: WorkCalendar) -> Problem | None:
    limit = limits.of(r.channel)
    if limit is None or r.received is None:
        return None
    due = due_time(cal, r.received, limit)
    if entered <= due:
        return None
    return Problem(
        "register", r.row, "entered",
        f"登记不及时：{r.channel}渠道应在反馈后{limit.text('zh')}内登记（{dates.fmt(due)} 前），"
        f"实际登记于 {dates.fmt(entered)}",
        f"registered late: {r.channel} feedback must be registered within {limit.text('en')} (by {dates.fmt(due)}), "
        f"registered {dates.fmt(entered)}", WARNING, dates.fmt(entered))

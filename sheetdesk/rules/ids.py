"""Ticket IDs ``YYYYMM-NNN`` (PRODUCT.md §3).

Serials run per month of the received time, in received-time order, continue above anything already
issued that month, and are never issued twice: the highest serial ever issued per month is kept in
a counter (a hidden sheet) so deleting a row does not free its number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

ID_RE = re.compile(r"^(\d{4})(0[1-9]|1[0-2])-(\d{3,})$")


def format_id(month: str, serial: int) -> str:
    """``month`` is ``YYYYMM``; serials are three digits wide until they pass 999."""
    return f"{month}-{serial:03d}"


def month_key(moment: datetime) -> str:
    return f"{moment.year:04d}{moment.month:02d}"


def parse_id(text: str) -> tuple[str, int] | None:
    """(YYYYMM, serial) or None when ``text`` is not a well-formed ID."""
    match = ID_RE.match(text.strip())
    if not match:
        return None
    return match.group(1) + match.group(2), int(match.group(3))


@dataclass(slots=True)
class IdRow:
    row: int
    received: datetime | None
    typed_id: str | None


@dataclass
class IdPlan:
    #: row -> newly issued ID
    issued: dict[int, str] = field(default_factory=dict)
    #: month -> highest serial issued or seen (the new counter)
    counter: dict[str, int] = field(default_factory=dict)
    #: row -> (kind, detail) for typed IDs that are wrong: "malformed", "month"
    problems: dict[int, tuple[str, str]] = field(default_factory=dict)
    #: typed ID -> the rows that hold it, for every ID on more than one row (well-formed or not):
    #: each row stays its own ticket and none of them owns the ID's log or results
    duplicates: dict[str, list[int]] = field(default_factory=dict)


def plan_ids(rows: list[IdRow], counter: dict[str, int]) -> IdPlan:
    """Decide IDs for rows without one; report malformed, duplicate and wrong-month typed IDs."""
    plan = IdPlan(counter=dict(counter))
    first_row_of: dict[str, int] = {}
    for r in rows:
        if not r.typed_id:
            continue
        key = r.typed_id.strip()
        first = first_row_of.setdefault(key, r.row)
        if first != r.row:
            plan.duplicates.setdefault(key, [first]).append(r.row)
        parsed = parse_id(r.typed_id)
        if parsed is None:
            plan.problems[r.row] = ("malformed", r.typed_id)
            continue
        month, serial = parsed
        plan.counter[month] = max(plan.counter.get(month, 0), serial)
        if r.received is not None and month_key(r.received) != month:
            plan.problems[r.row] = ("month", month_key(r.received))

    pending = sorted((r.received, r.row) for r in rows if not r.typed_id and r.received is not None)
    for received, row in pending:
        month = month_key(received)
        serial = plan.counter.get(month, 0) + 1
        plan.counter[month] = serial
        plan.issued[row] = format_id(month, serial)
    return plan


#: names Windows gives to devices: a file called so (with any extension) cannot be created there
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{kind}{n}" for kind in ("COM", "LPT") for n in [*"0123456789", "\u00b9", "\u00b2", "\u00b3"]])
#: characters Windows refuses in a file name, path separators of both systems and control characters
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_FILE_ID = re.compile(r"[0-9]{4}(0[1-9]|1[0-2])-[0-9]{3,}")


def file_name_problem(ticket_id: str) -> tuple[str, str] | None:
    """Why ``ticket_id`` cannot name a file in the report archive (zh, en), or None when it can.

    Only IDs of the grammar name files (ASCII digits, nothing around them); the other checks hold
    even if the grammar grows: no path separators or ``..``, no character Windows forbids, no
    Windows device name (``CON``, ``NUL``, ``COM1`` …), no trailing dot or space.
    """
    shown = "".join(c if c.isprintable() else "?" for c in ticket_id[:60]) + ("…" if len(ticket_id) > 60 else "")
    if _WINDOWS_FORBIDDEN.search(ticket_id) or ticket_id in ("", ".", "..") or ".." in ticket_id:
        return (f"编号“{shown}”含有路径或文件名中不允许的字符，未生成报告",
                f"ID '{shown}' holds characters not allowed in a path or file name; no report written")
    if ticket_id.split(".")[0].strip().upper() in _WINDOWS_DEVICES:
        return (f"编号“{shown}”是 Windows 的设备名，不能作文件名，未生成报告",
                f"ID '{shown}' is a Windows device name and cannot name a file; no report written")
    if ticket_id != ticket_id.strip().rstrip("."):
        return (f"编号“{shown}”首尾有空格或以句点结尾，未生成报告",
                f"ID '{shown}' starts or ends with a space or ends with a dot; no report written")
    if not _FILE_ID.fullmatch(ticket_id):
        return (f"编号“{shown}”格式不对（应为 年月-流水号，如 202611-001），未生成报告",
                f"ID '{shown}' is malformed (expected YYYYMM-NNN such as 202611-001); no report written")
    return None

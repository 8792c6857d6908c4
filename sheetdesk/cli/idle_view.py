"""The stand-up's 停滞 / idle list: open tickets with no progress row for longer than their level's
进展更新 cadence, as console cells and as JSON."""

from __future__ import annotations

from sheetdesk.rules import dates
from sheetdesk.rules.idle import Idle
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import text as _t


def idle_title(lang: str) -> str:
    return _t(lang, "停滞（无进展更新）", "Idle (no progress update)")


def idle_heads(lang: str) -> list[str]:
    return [_t(lang, "状态", "Status"), _t(lang, "上次进展", "Last progress"), _t(lang, "要求", "Required"),
            _t(lang, "已停滞", "Idle for")]


def idle_cells(i: Idle, cal: WorkCalendar, lang: str) -> list[str]:
    every = _t(lang, f"每 {i.cadence.text('zh')}", f"every {i.cadence.text('en')}")
    return [i.status_text(lang), dates.fmt(i.since), every, i.idle_text(cal, lang)]


def idle_json(items: list[Idle], cal: WorkCalendar, lang: str) -> list[dict]:
    return [{"id": i.ticket_id, "row": i.row, "customer": i.customer, "owner": i.owner, "priority": i.priority,
             "status": i.status or "new", "status_text": i.status_text(lang), "since": dates.fmt(i.since),
             "update_every": i.cadence.text(lang), "update_due": dates.fmt(i.due),
             "idle": i.idle_text(cal, lang), "clock": "wall" if i.wall else "business"}
            for i in items]

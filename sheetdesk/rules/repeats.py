"""Repeated complaints (重复投诉): the same customer, by contact, complaining again while an earlier
ticket of theirs is still open or was closed only a few days before.

A customer who calls back about a problem that is not solved (or came back soon after) is the
seeds' 客户强烈投诉: the later ticket is raised, the earlier one is named in the reason. Customers
are matched by contact (phone, e-mail), not by name: names are typed in many ways, a number is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sheetdesk.schema import normalise_header


@dataclass(frozen=True, slots=True)
class Contact:
    """One register row as the repeat rule sees it."""
    row: int
    received: datetime | None
    keys: tuple[str, ...]          # contacts.contact_keys of its contact cell
    ticket_id: str | None = None
    #: when its log closed it (None while it is open)
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    """The earlier ticket a row repeats: open at the time (closed_at None or later) or closed recently."""
    earlier_id: str
    closed_at: datetime | None

    def text(self, lang: str, received: datetime | None) -> str:
        still_open = self.closed_at is None or (received is not None and self.closed_at > received)
        if lang == "zh":
            return (f"工单{self.earlier_id}未关闭" if still_open
                    else f"工单{self.earlier_id}于{self.closed_at:%m-%d}关闭")
        return (f"ticket {self.earlier_id} still open" if still_open
                else f"ticket {self.earlier_id} closed {self.closed_at:%m-%d}")


def repeats(rows: list[Contact], days: float) -> dict[int, Repeat]:
    """row -> the earlier ticket it repeats, for each row whose customer (a shared contact key) has an
    earlier ticket still open when this one came in, or closed within ``days`` before it."""
    span = timedelta(days=days)
    groups: dict[str, list[Contact]] = {}
    for c in rows:
        if c.received is not None:
            for key in c.keys:
                groups.setdefault(key, []).append(c)
    out: dict[int, Repeat] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda c: (c.received, c.row))
        # the earlier ticket that stays open the longest is the one to compare with (None = still open)
        best: Contact | None = None
        for c in members:
            assert c.received is not None
            if (best is not None and c.row not in out and best.ticket_id and best.ticket_id != c.ticket_id
                    and (best.closed_at is None or best.closed_at >= c.received - span)):
                out[c.row] = Repeat(best.ticket_id, best.closed_at)
            if c.ticket_id and (best is None or best.closed_at is not None
                                and (c.closed_at is None or c.closed_at > best.closed_at)):
                best = c
    return out


#: 第N次 with N of two or more (第一次 is a first complaint)
_NTH = re.compile(r"第\s*(?:[二两三四五六七八九十几]+|[2-9]|\d{2,})\s*次")
NTH_WORD = "第N次"


def repeat_words(text: str, words: tuple[str, ...]) -> list[str]:
    """The words of ``words`` found in ``text``; ``第N次`` stands for 第二次, 第3次, 第几次 …"""
    hits: list[str] = []
    lowered = text.lower()
    for word in words:
        if normalise_header(word) == normalise_header(NTH_WORD):
            found = _NTH.search(text)
            if found:
                hits.append(found.group(0))
        elif word.lower() in lowered:
            hits.append(word)
    return hits

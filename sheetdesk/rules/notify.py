"""The stand-up as a group message: one digest, then each app's payload within its size limit.

The digest holds what the group acts on, most pressing first: late tickets (most urgent level, then
most late), what falls due before the next stand-up, idle tickets, reopened ones, unassigned ones,
follow-up calls due, and a one-line total. A message never carries a customer's contact, and
customer names are masked (王**) unless the desk says ``[notify] show_names = true``. Text people
typed is stripped of what a chat app would read as markup (``<@all>``, links).

Pure: the payloads are dicts; signing and sending are :mod:`sheetdesk.app.notify`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sheetdesk.rules.contacts import mask_name
from sheetdesk.rules.followups import Call
from sheetdesk.rules.idle import Idle
from sheetdesk.rules.staff import Person, by_name, name_key
from sheetdesk.rules.standup import Item, Standup
from sheetdesk.rules.tracker import STAGE_NAMES
from sheetdesk.rules.workdays import WorkCalendar

#: each app's limit, in UTF-8 bytes: 企业微信 markdown content 4096; 钉钉 and 飞书 take a 20 KB request
#: body (飞书's is measured on the whole JSON, leaving room for the signature fields)
LIMITS = {"wecom": 4096, "dingtalk": 20000, "feishu": 19500}
#: the most lines one list shows in a group message (a longer list is read in the workbook)
GROUP_LINES = 20
#: ... and in a mail
MAIL_LINES = 200
#: the ranks whose late owners are @-mentioned: the top two levels (P0/P1, 一级/二级, 紧急/高)
MENTION_RANKS = 1
#: what people typed that a chat app would take as markup
_MARKUP = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "\n": " ", "\r": " ", "`": "'", "#": "＃"})

SECTIONS = {  # key: (zh, en)
    "late": ("已超时", "Late"),
    "due_soon": ("下次晨会前到期", "Due before the next stand-up"),
    "idle": ("长时间无进展", "Idle"),
    "reopened": ("重新打开", "Reopened"),
    "unassigned": ("未分派", "Unassigned"),
    "calls_due": ("待回访", "Follow-up calls due"),
}
MISSING = {"owner": ("责任人", "owner"), "category": ("问题分类", "category"), "priority": ("优先级", "priority")}


@dataclass
class Section:
    key: str
    title: str
    lines: list[str]


@dataclass
class Digest:
    lang: str
    title: str
    subtitle: str
    sections: list[Section]
    total: str
    #: owners of late tickets of the top two levels, in the order of the late list
    mention_owners: list[str] = field(default_factory=list)

    def more(self, n: int) -> str:
        return f"… 另有 {n} 条，见工作簿" if self.lang == "zh" else f"… {n} more, see the workbook"


def clean(text: object) -> str:
    """Typed text made inert for a chat message: no markup, one line."""
    return " ".join(str(text or "").translate(_MARKUP).split())


def idle_items(s: Standup) -> list[Idle]:
    """The stand-up's idle tickets (no progress update within their level's cadence), longest idle
    first; the message shows them between due-soon and reopened."""
    return list(s.idle)


def build_digest(s: Standup, cal: WorkCalendar, lang: str, show_names: bool = False) -> Digest:
    zh = lang == "zh"

    def t(a: str, b: str) -> str:
        return a if zh else b

    def who(customer: str) -> str:
        return clean(customer if show_names else mask_name(customer)) or t("（无名）", "(no name)")

    shared = {c.ticket_id for c in s.id_conflicts}  # rows sharing an ID are told apart by their row

    def head(i: Item | Idle) -> str:
        prio = i.priority or t("未定级", "no level")
        if isinstance(i, Item) and i.escalated:
            prio += t("（升级）", " (escalated)")
        shown = clean(i.ticket_id) or t(f"第{i.row}行", f"row {i.row}")
        if i.ticket_id and i.ticket_id in shared:
            shown += t(f"（第{i.row}行）", f" (row {i.row})")
        return f"{shown} {who(i.customer)} · {clean(prio)} · {clean(i.owner) or t('未分派', 'unassigned')}"

    def stage(key: str | None) -> str:
        return STAGE_NAMES[key][0 if zh else 1] if key else ""

    def at(moment: datetime | None) -> str:
        return moment.strftime("%m-%d %H:%M") if moment else ""

    def late(i: Item) -> str:
        amount = i.amount_text(cal, lang)
        return head(i) + " · " + t(f"{stage(i.stage)}超时 {amount}", f"{stage(i.stage)} late by {amount}")

    def soon(i: Item) -> str:
        amount = i.amount_text(cal, lang)
        return head(i) + " · " + t(f"{stage(i.stage)} {at(i.due)} 到期（剩 {amount}）",
                                   f"{stage(i.stage)} due {at(i.due)} ({amount} left)")

    def reopened(i: Item) -> str:
        return head(i) + (" · " + t(f"{at(i.due)} 重新打开", f"reopened {at(i.due)}") if i.due else "")

    def unassigned(i: Item) -> str:
        gaps = [MISSING[m][0 if zh else 1] for m in i.missing if m in MISSING]
        return head(i) + (" · " + t(f"缺{'、'.join(gaps)}", f"no {', '.join(gaps)}") if gaps else "")

    def call(c: Call) -> str:
        """An overdue call by the last day of its window (what was missed), a due one by its window."""
        first, last = c.due, c.latest or c.due
        if c.late and last is not None:
            when = t(f"最晚 {last:%m-%d}，已逾期", f"latest {last:%m-%d}, overdue")
        elif first is not None and last is not None and last != first:
            when = t(f"应回访 {first:%m-%d}～{last:%m-%d}", f"due {first:%m-%d} to {last:%m-%d}")
        else:
            when = t(f"应回访 {first:%m-%d}", f"due {first:%m-%d}") if first is not None else ""
        return f"{clean(c.ticket_id)} {who(c.customer)} · {clean(c.type)}" + (f" · {when}" if when else "")

    # most urgent level first, then most late on one measure for every unit (working time, then the
    # earlier deadline: a 2小时 stage due last Friday evening is later than one due this morning)
    late_items = sorted(s.late, key=lambda i: (i.rank, -i.business_seconds, i.due or s.now, i.ticket_id))
    idle = idle_items(s)
    parts: list[tuple[str, list[str]]] = [
        ("late", [late(i) for i in late_items]),
        ("due_soon", [soon(i) for i in s.due_soon]),
        ("idle", [head(i) + " · " + t(f"{i.idle_text(cal, lang)}无进展更新", f"no update for {i.idle_text(cal, lang)}")
                  for i in idle]),
        ("reopened", [reopened(i) for i in s.reopened]),
        ("unassigned", [unassigned(i) for i in s.unassigned]),
        ("calls_due", [call(c) for c in s.calls_due]),
    ]
    sections = [Section(key, f"{SECTIONS[key][0 if zh else 1]}（{len(lines)}）" if zh
                        else f"{SECTIONS[key][1]} ({len(lines)})", lines) for key, lines in parts if lines]
    open_count = sum(c.get("open", 0) for c in s.by_owner.values())
    counts = [(t("超时", "late"), len(s.late)), (t("下次晨会前到期", "due soon"), len(s.due_soon))]
    if idle:
        counts.append((t("无进展", "idle"), len(idle)))
    counts += [(t("重新打开", "reopened"), len(s.reopened)), (t("未分派", "unassigned"), len(s.unassigned)),
               (t("待回访", "calls due"), len(s.calls_due))]
    total = (f"共 {open_count} 件未结：" + "，".join(f"{k} {n}" for k, n in counts) if zh
             else f"{open_count} open: " + ", ".join(f"{n} {k}" for k, n in counts))
    owners: list[str] = []
    for i in late_items:
        if i.rank <= MENTION_RANKS and i.owner and i.owner.strip() not in owners:
            owners.append(i.owner.strip())
    return Digest(lang, t(f"售后晨会摘要 {s.now:%Y-%m-%d}", f"After-sales stand-up {s.now:%Y-%m-%d}"),
                  t(f"截至 {s.now:%m-%d %H:%M}，下次晨会 {at(s.next_standup)}",
                    f"as of {s.now:%m-%d %H:%M}; next stand-up {at(s.next_standup)}"),
                  sections, total, owners)


def mentioned(d: Digest, people: list[Person], platform: str) -> list[str]:
    """The ids the platform mentions the late P0/P1 owners by (owners without one: no mention)."""
    known = by_name(people)
    attr = {"wecom": "wecom_id", "dingtalk": "dingtalk", "feishu": "feishu_id"}[platform]
    out: list[str] = []
    for owner in d.mention_owners:
        person = known.get(name_key(owner))
        value = clean(getattr(person, attr)) if person is not None else ""
        if value and value not in out:
            out.append(value)
    return out


def _mention_note(d: Digest) -> str:
    return "请关注超时的紧急/重要工单" if d.lang == "zh" else "please look at the late urgent tickets"


def _lines(d: Digest, caps: dict[str, int]) -> list[tuple[str, list[str]]]:
    out = []
    for sec in d.sections:
        cap = caps.get(sec.key, len(sec.lines))
        lines = sec.lines[:cap]
        if len(sec.lines) > cap:
            lines.append(d.more(len(sec.lines) - cap))
        out.append((sec.title, lines))
    return out


#: the order a message too long for its app is cut in: the least pressing list first, late tickets last
CUT_ORDER = ("calls_due", "unassigned", "reopened", "idle", "due_soon", "late")


def fit(d: Digest, render: Callable[[dict[str, int]], Any], size: Callable[[Any], int], limit: int | None,
        cap: int = GROUP_LINES) -> Any:
    """The payload with each list cut to at most ``cap`` lines, then cut further, a line at a time
    from the least pressing list (:data:`CUT_ORDER`) until ``size`` of it is within ``limit`` bytes:
    late tickets are the last lines a message loses. A cut list keeps its title and "… 另有 N 条"."""
    caps = {sec.key: min(len(sec.lines), cap) for sec in d.sections}
    order = [k for k in CUT_ORDER if k in caps] + [k for k in caps if k not in CUT_ORDER]
    while True:
        payload = render(caps)
        if limit is None or size(payload) <= limit:
            return payload
        key = next((k for k in order if caps[k] > 0), None)
        if key is None:
            return payload  # the titles and the total alone: always far within every limit
        caps[key] -= 1


def _markdown(d: Digest, caps: dict[str, int], emphasis: Callable[[str], str], footer: str) -> str:
    out = [f"### {d.title}", f"> {d.subtitle}", ""]
    for title, lines in _lines(d, caps):
        out.append(emphasis(title))
        out += [f"- {line}" for line in lines]
        out.append("")
    out.append(f"**{d.total}**")
    if footer:
        out += ["", footer]
    return "\n".join(out)


def _bold_only(title: str) -> str:
    return f"**{title}**"


def _wecom_title(title: str) -> str:
    return f'**<font color="warning">{title}</font>**' if title.startswith(("已超时", "Late")) else f"**{title}**"


def utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def wecom(d: Digest, people: list[Person], limit: int = LIMITS["wecom"]) -> dict[str, Any]:
    """企业微信 group bot: ``msgtype: markdown``, mentions as ``<@userid>`` in the content."""
    ids = mentioned(d, people, "wecom")
    footer = " ".join(f"<@{i}>" for i in ids) + f" {_mention_note(d)}" if ids else ""
    content = fit(d, lambda caps: _markdown(d, caps, _wecom_title, footer), utf8, limit)
    return {"msgtype": "markdown", "markdown": {"content": content}}


def dingtalk(d: Digest, people: list[Person], limit: int = LIMITS["dingtalk"]) -> dict[str, Any]:
    """钉钉 group bot: ``msgtype: markdown`` with a title; a mention is ``@mobile`` in the text and
    the mobile in ``at.atMobiles``."""
    mobiles = mentioned(d, people, "dingtalk")
    footer = " ".join(f"@{m}" for m in mobiles) + f" {_mention_note(d)}" if mobiles else ""
    text = fit(d, lambda caps: _markdown(d, caps, _bold_only, footer), utf8, limit)
    return {"msgtype": "markdown", "markdown": {"title": d.title, "text": text},
            "at": {"atMobiles": mobiles, "isAtAll": False}}


def _json_size(payload: dict[str, Any]) -> int:
    return utf8(json.dumps(payload, ensure_ascii=False))


def feishu(d: Digest, people: list[Person], style: str = "post", limit: int = LIMITS["feishu"]) -> dict[str, Any]:
    """飞书 group bot: a rich-text ``post`` (mentions as ``at`` elements with the open_id) or an
    ``interactive`` card (mentions as ``<at id=ou_…></at>`` in its lark_md text)."""
    ids = mentioned(d, people, "feishu")

    def post(caps: dict[str, int]) -> dict[str, Any]:
        content: list[list[dict[str, Any]]] = [[{"tag": "text", "text": d.subtitle}]]
        for title, lines in _lines(d, caps):
            content.append([{"tag": "text", "text": f"【{title}】"}])
            content += [[{"tag": "text", "text": f"• {line}"}] for line in lines]
        content.append([{"tag": "text", "text": d.total}])
        if ids:
            content.append([{"tag": "at", "user_id": i} for i in ids] + [{"tag": "text", "text": f" {_mention_note(d)}"}])
        lang_key = "zh_cn" if d.lang == "zh" else "en_us"
        return {"msg_type": "post", "content": {"post": {lang_key: {"title": d.title, "content": content}}}}

    def card(caps: dict[str, int]) -> dict[str, Any]:
        parts = [d.subtitle]
        for title, lines in _lines(d, caps):
            parts.append(f"**{title}**\n" + "\n".join(f"- {line}" for line in lines))
        parts.append(f"**{d.total}**")
        if ids:
            parts.append(" ".join(f"<at id={i}></at>" for i in ids) + f" {_mention_note(d)}")
        late = any(sec.key == "late" for sec in d.sections)
        return {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": d.title}, "template": "red" if late else "blue"},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": "\n\n".join(parts)}}]}}

    return dict(fit(d, card if style == "card" else post, _json_size, limit))


def mail(d: Digest) -> tuple[str, str]:
    """(subject, plain-text body) of the stand-up mailed through ``[mail]``."""
    out = [d.title, d.subtitle, ""]
    for title, lines in _lines(d, {sec.key: min(len(sec.lines), MAIL_LINES) for sec in d.sections}):
        out.append(title)
        out += [f"  - {line}" for line in lines]
        out.append("")
    out += [d.total, "", "—— sheetdesk" if d.lang == "zh" else "-- sheetdesk"]
    return d.title, "\n".join(out) + "\n"


def payload(kind: str, d: Digest, people: list[Person], style: str | None = None) -> dict[str, Any]:
    """The webhook body for a target type (not yet signed)."""
    if kind == "wecom":
        return wecom(d, people)
    if kind == "dingtalk":
        return dingtalk(d, people)
    if kind == "feishu":
        return feishu(d, people, style or "post")
    raise ValueError(kind)

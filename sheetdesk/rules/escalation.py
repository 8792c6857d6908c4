"""Escalation (升级规则): keyword, property damage, publicity, repeat, emotion, batch and VIP rules
that raise a ticket's effective priority.

Managers edit the rules as rows of the 升级规则 sheet; levels name rows of the SLA sheet (or their
aliases), and "raise to" always means "at least": a rule never lowers what the clerk typed. The typed
优先级 is never changed — the result goes to 生效优先级 with the reason in 升级原因.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sheetdesk.rules.problems import Problem
from sheetdesk.rules.records import Table
from sheetdesk.rules.repeats import NTH_WORD, Contact, repeat_words, repeats
from sheetdesk.rules.routing import split_categories
from sheetdesk.rules.sla import Level, SlaTable, split_list
from sheetdesk.schema import normalise_header

KEYWORD, BATCH, VIP = "keyword", "batch", "vip"
PROPERTY, PUBLICITY, REPEAT, EMOTION = "property", "publicity", "repeat", "emotion"
RULE_NAMES = {KEYWORD: ("关键词", "keyword", "keywords"), BATCH: ("批量", "batch"), VIP: ("vip", "重要客户"),
              PROPERTY: ("财产损失", "property damage", "property"), PUBLICITY: ("舆情", "publicity", "public accusation"),
              REPEAT: ("重复投诉", "repeat complaint", "repeat"), EMOTION: ("情绪", "emotion", "angry repeat")}
#: the rules whose parameters are words found in the description, and what their reason calls them
WORD_RULES = {KEYWORD: ("关键词", "keyword"), PROPERTY: ("财产损失", "property damage"),
              PUBLICITY: ("舆情", "publicity")}
#: how a batch is keyed: product model + category only, or the model else the matrix row matched
BY_MODEL, BY_MODEL_OR_KEYWORD = "model", "model-or-keyword"
_BATCH_KEYS = {BY_MODEL: ("型号", "产品型号", "model", "product"),
               BY_MODEL_OR_KEYWORD: ("型号或关键词", "型号或子类", "model or keyword", "model-or-keyword",
                                     "model or subcategory")}
#: 情绪 rule defaults: the emotions that count, and the words that say the customer complains again
DEFAULT_EMOTIONS = ("愤怒",)
DEFAULT_REPEAT_WORDS = (NTH_WORD, "多次投诉", "再次投诉", "反复投诉", "又投诉", "屡次")
_YES = {"是", "启用", "开", "y", "yes", "true", "1", "on", "√", "✓"}
_NO = {"否", "停用", "关", "n", "no", "false", "0", "off", "×", "✗"}
_PARAM = re.compile(r"\s*([^=＝:：;；,，]+?)\s*[=＝:：]\s*([^;；,，]+)")
_LIST_PARAM = re.compile(r"\s*([^=＝:：]+?)\s*[=＝:：]\s*(.*)")


@dataclass(frozen=True)
class Rule:
    row: int
    kind: str
    level: Level
    enabled: bool
    words: tuple[str, ...] = ()
    count: int = 5
    days: float = 7
    tier: str = "VIP"
    #: batch rule: BY_MODEL or BY_MODEL_OR_KEYWORD
    key: str = BY_MODEL
    #: 情绪 rule: the emotions (客户情绪) that count
    emotions: tuple[str, ...] = ()


@dataclass(slots=True)
class Escalation:
    level: Level | None
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)
    batch_key: str | None = None

    def reason(self, lang: str) -> str | None:
        if not self.reasons:
            return None
        return ("；" if lang == "zh" else "; ").join(r[0] if lang == "zh" else r[1] for r in self.reasons)


def _rule_kind(text: str) -> str | None:
    key = normalise_header(text)
    for kind, names in RULE_NAMES.items():
        if key in {normalise_header(n) for n in names}:
            return kind
    return None


def _params(text: str) -> dict[str, str]:
    return {normalise_header(k): v.strip() for k, v in _PARAM.findall(text)}


def _list_params(text: str) -> dict[str, tuple[str, ...]]:
    """``情绪=愤怒,激动; 关键词=第N次,多次投诉``: each part before = names a list (parts split by ;)."""
    out: dict[str, tuple[str, ...]] = {}
    for part in re.split(r"[;；\n]+", text):
        found = _LIST_PARAM.match(part)
        if found:
            out[normalise_header(found.group(1))] = tuple(split_list(found.group(2)))
    return out


def _word_hits(text: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """The words found in ``text``; a word of digits only (315, 12315) counts only as a number of its
    own, not inside a phone number or an order number."""
    lowered = text.lower()
    hits = []
    for w in words:
        low = w.lower()
        if low.isdigit():
            if re.search(rf"(?<![0-9]){re.escape(low)}(?![0-9])", lowered):
                hits.append(w)
        elif low in lowered:
            hits.append(w)
    return tuple(hits)


def read_rules(table: Table | None, sla: SlaTable) -> tuple[list[Rule], list[Problem]]:
    rules: list[Rule] = []
    problems: list[Problem] = []
    if table is None:
        return rules, problems

    def bad(row: int, column: str, zh: str, en: str, value: object = None) -> None:
        problems.append(Problem("escalation", row, column, zh, en, value=value))

    for row in table.rows:
        kind = _rule_kind(row.text("rule"))
        if kind is None:
            bad(row.row, "rule", f"未知规则“{row.text('rule')}”，应为：关键词、财产损失、舆情、重复投诉、情绪、批量 或 VIP",
                f"unknown rule '{row.text('rule')}'; expected Keyword, Property damage, Publicity, Repeat complaint, "
                f"Emotion, Batch or VIP", row.get("rule"))
            continue
        enabled_text = normalise_header(row.text("enabled"))
        if enabled_text and enabled_text not in _YES | _NO:
            bad(row.row, "enabled", f"“{row.text('enabled')}”应为 是 或 否", f"'{row.text('enabled')}' should be Yes or No")
        enabled = enabled_text in _YES if enabled_text else kind != VIP
        level = sla.resolve(row.text("level"))
        if level is None:
            bad(row.row, "level", f"目标级别“{row.text('level')}”不在时效标准表中，应为：{'、'.join(sla.names())}",
                f"target level '{row.text('level')}' is not in the SLA sheet; expected one of: {', '.join(sla.names())}",
                row.get("level"))
            continue
        params = _params(row.text("parameters"))
        if kind in WORD_RULES:
            words = tuple(split_list(row.text("parameters")))
            if not words:
                name_zh, name_en = WORD_RULES[kind]
                bad(row.row, "parameters", f"{name_zh}规则没有关键词，应写成 {_EXAMPLE_WORDS[kind][0]}",
                    f"the {name_en} rule has no words; write e.g. {_EXAMPLE_WORDS[kind][1]}")
                continue
            rules.append(Rule(row.row, kind, level, enabled, words=words))
        elif kind == BATCH:
            key = _batch_key(params.get("键") or params.get("key") or "")
            try:
                count = int(float(params.get("数量") or params.get("count") or 5))
                days = float(params.get("天数") or params.get("days") or 7)
                if count < 2 or days <= 0 or key is None:
                    raise ValueError
            except ValueError:
                bad(row.row, "parameters", f"批量规则参数“{row.text('parameters')}”无效，应写成 数量=5; 天数=7; 键=型号或关键词",
                    f"batch parameters '{row.text('parameters')}' are invalid; write count=5; days=7; key=model or keyword")
                continue
            rules.append(Rule(row.row, kind, level, enabled, count=count, days=days, key=key))
        elif kind == REPEAT:
            try:
                days = float(params.get("天数") or params.get("days") or 30)
                if days < 0:
                    raise ValueError
            except ValueError:
                bad(row.row, "parameters", f"重复投诉规则参数“{row.text('parameters')}”无效，应写成 天数=30",
                    f"repeat complaint parameters '{row.text('parameters')}' are invalid; write days=30")
                continue
            rules.append(Rule(row.row, kind, level, enabled, days=days))
        elif kind == EMOTION:
            lists = _list_params(row.text("parameters"))
            emotions = lists.get("情绪") or lists.get("emotion") or lists.get("emotions") or DEFAULT_EMOTIONS
            words = lists.get("关键词") or lists.get("words") or lists.get("keywords") or DEFAULT_REPEAT_WORDS
            rules.append(Rule(row.row, kind, level, enabled, words=words, emotions=emotions))
        else:
            tier = params.get("客户等级") or params.get("tier") or "VIP"
            rules.append(Rule(row.row, kind, level, enabled, tier=tier))
    return rules, problems


_EXAMPLE_WORDS = {KEYWORD: ("烫伤,过敏,起火", "burn, allergy, fire"),
                  PROPERTY: ("财产损失,烧坏,泡坏", "property damage, burnt, flooded"),
                  PUBLICITY: ("欺诈,骗子,315,媒体,网上曝光", "fraud, scam, journalist, social media")}


def _batch_key(text: str) -> str | None:
    if not text.strip():
        return BY_MODEL  # a rule row written before the key existed keeps its meaning
    wanted = normalise_header(text)
    for key, names in _BATCH_KEYS.items():
        if wanted in {normalise_header(n) for n in names}:
            return key
    return None


@dataclass(slots=True)
class Candidate:
    row: int
    received: datetime | None
    description: str
    product: str
    category: str
    tier: str
    level: Level | None
    #: the matrix row of its lead category the description matched (Matrix.keyword_of)
    keyword: str = ""
    emotion: str = ""
    ticket_id: str | None = None
    #: contacts.contact_keys of its contact cell, for the repeat rule
    contacts: tuple[str, ...] = ()
    closed_at: datetime | None = None


def _raise(current: Level | None, target: Level) -> Level:
    return target if current is None or target.rank < current.rank else current


def _group(c: Candidate, key: str) -> tuple[str, str, str] | None:
    """(lead category, product or keyword, how it shows in the batch key) of a candidate, or None when
    it has nothing to be grouped by."""
    lead = split_categories(c.category)
    if not lead or c.received is None:
        return None
    if c.product:
        return normalise_header(lead[0]), "model:" + normalise_header(c.product), f"{c.product}+{lead[0]}"
    if key == BY_MODEL_OR_KEYWORD and c.keyword:
        same = normalise_header(c.keyword) == normalise_header(lead[0])  # a one-row category: the category
        return (normalise_header(lead[0]), "keyword:" + c.keyword.lower(),
                lead[0] if same else f"{lead[0]}+{c.keyword}")
    return None


def batches(cands: list[Candidate], count: int, days: float, key: str = BY_MODEL) -> dict[int, tuple[str, int]]:
    """row -> (batch key, size): tickets of one 问题分类 (its lead category) and one 产品型号 — or, with
    BY_MODEL_OR_KEYWORD, one matrix row matched when there is no model — with ``count`` or more inside a window."""
    #: (received, candidate) per group; the group's label is its first member's
    groups: dict[tuple[str, str], list[tuple[datetime, Candidate]]] = {}
    labels: dict[int, str] = {}
    for c in cands:
        group = _group(c, key)
        if group is not None and c.received is not None:
            groups.setdefault(group[:2], []).append((c.received, c))
            labels[c.row] = group[2]
    span = timedelta(days=days)
    out: dict[int, tuple[str, int]] = {}
    for members in groups.values():
        members.sort(key=lambda m: (m[0], m[1].row))
        marked = [False] * len(members)
        j = 0
        for i in range(len(members)):  # two pointers: window [i, j) within the span
            j = max(j, i)
            while j < len(members) and members[j][0] - members[i][0] < span:
                j += 1
            if j - i >= count:
                for k in range(i, j):
                    marked[k] = True
        # consecutive marked members form one batch (overlapping windows merge)
        for flag, pairs in itertools.groupby(zip(members, marked), key=lambda pair: pair[1]):
            if not flag:
                continue
            run = [member for member, _ in pairs]
            received, first = run[0]
            name = f"{labels[first.row]}@{received:%Y%m%d}"
            for _, m in run:
                out[m.row] = (name, len(run))
    return out


def escalate(cands: list[Candidate], rules: list[Rule]) -> dict[int, Escalation]:
    result = {c.row: Escalation(c.level) for c in cands}
    said: dict[tuple[int, tuple[str, ...]] | tuple[int, str, int], tuple[str, str]] = {}  # tens of thousands of tickets share a few reasons: one text each
    for rule in (r for r in rules if r.enabled):
        if rule.kind in WORD_RULES:
            name_zh, name_en = WORD_RULES[rule.kind]
            for c in cands:
                hits = _word_hits(c.description, rule.words)
                if hits:
                    e = result[c.row]
                    e.level = _raise(e.level, rule.level)
                    e.reasons.append(said.get((id(rule), hits)) or said.setdefault((id(rule), hits), (
                        f"{name_zh}“{'、'.join(hits)}”→{rule.level.name}",
                        f"{name_en} '{', '.join(hits)}' → {rule.level.name}")))
        elif rule.kind == REPEAT:
            found = repeats([Contact(c.row, c.received, c.contacts, c.ticket_id, c.closed_at) for c in cands if c.contacts],
                            rule.days)
            by_row = {c.row: c for c in cands}
            for row, rep in found.items():
                e = result[row]
                e.level = _raise(e.level, rule.level)
                received = by_row[row].received
                e.reasons.append((f"重复投诉（同一联系方式，{rep.text('zh', received)}）→至少{rule.level.name}",
                                  f"repeat complaint (same contact, {rep.text('en', received)}) → at least {rule.level.name}"))
        elif rule.kind == EMOTION:
            moods = {normalise_header(m) for m in rule.emotions}
            for c in cands:
                if c.emotion and normalise_header(c.emotion) in moods:
                    words = repeat_words(c.description, rule.words)
                    if words:
                        e = result[c.row]
                        e.level = _raise(e.level, rule.level)
                        e.reasons.append((f"情绪：{c.emotion}且“{'、'.join(words)}”→至少{rule.level.name}",
                                          f"emotion: {c.emotion} and '{', '.join(words)}' → at least {rule.level.name}"))
        elif rule.kind == BATCH:
            for row, (key, size) in batches(cands, rule.count, rule.days, rule.key).items():
                e = result[row]
                e.level = _raise(e.level, rule.level)
                e.batch_key = key
                e.reasons.append(said.get((id(rule), key, size)) or said.setdefault((id(rule), key, size), (
                    f"批量问题 {key}（{rule.days:g}天内{size}单）→至少{rule.level.name}",
                    f"batch problem {key} ({size} in {rule.days:g} days) → at least {rule.level.name}")))
        elif rule.kind == VIP:
            reason = (f"{rule.tier}客户→至少{rule.level.name}", f"{rule.tier} customer → at least {rule.level.name}")
            wanted = normalise_header(rule.tier)
            for c in cands:
                if c.tier and normalise_header(c.tier) == wanted:
                    e = result[c.row]
                    e.level = _raise(e.level, rule.level)
                    e.reasons.append(reason)
    return result

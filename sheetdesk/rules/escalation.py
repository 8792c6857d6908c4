"""Escalation (升级规则): keyword, batch and VIP rules that raise a ticket's effective priority.

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
from sheetdesk.rules.sla import Level, SlaTable, split_list
from sheetdesk.schema import normalise_header

KEYWORD, BATCH, VIP = "keyword", "batch", "vip"
RULE_NAMES = {KEYWORD: ("关键词", "keyword", "keywords"), BATCH: ("批量", "batch"), VIP: ("vip", "重要客户")}
_YES = {"是", "启用", "开", "y", "yes", "true", "1", "on", "√", "✓"}
_NO = {"否", "停用", "关", "n", "no", "false", "0", "off", "×", "✗"}
_PARAM = re.compile(r"\s*([^=＝:：;；,，]+?)\s*[=＝:：]\s*([^;；,，]+)")


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
            bad(row.row, "rule", f"未知规则“{row.text('rule')}”，应为：关键词、批量 或 VIP",
                f"unknown rule '{row.text('rule')}'; expected Keyword, Batch or VIP", row.get("rule"))
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
        if kind == KEYWORD:
            words = tuple(split_list(row.text("parameters")))
            if not words:
                bad(row.row, "parameters", "关键词规则没有关键词，应写成 烫伤,过敏,起火",
                    "the keyword rule has no keywords; write e.g. burn, allergy, fire")
                continue
            rules.append(Rule(row.row, kind, level, enabled, words=words))
        elif kind == BATCH:
            try:
                count = int(float(params.get("数量") or params.get("count") or 5))
                days = float(params.get("天数") or params.get("days") or 7)
                if count < 2 or days <= 0:
                    raise ValueError
            except ValueError:
                bad(row.row, "parameters", f"批量规则参数“{row.text('parameters')}”无效，应写成 数量=5; 天数=7",
                    f"batch parameters '{row.text('parameters')}' are invalid; write count=5; days=7")
                continue
            rules.append(Rule(row.row, kind, level, enabled, count=count, days=days))
        else:
            tier = params.get("客户等级") or params.get("tier") or "VIP"
            rules.append(Rule(row.row, kind, level, enabled, tier=tier))
    return rules, problems


@dataclass(slots=True)
class Candidate:
    row: int
    received: datetime | None
    description: str
    product: str
    category: str
    tier: str
    level: Level | None


def _raise(current: Level | None, target: Level) -> Level:
    return target if current is None or target.rank < current.rank else current


def batches(cands: list[Candidate], count: int, days: float) -> dict[int, tuple[str, int]]:
    """row -> (batch key, size): tickets of one 产品型号 + 问题分类 with ``count`` or more inside a window."""
    #: (received, candidate) per product + category
    groups: dict[tuple[str, str], list[tuple[datetime, Candidate]]] = {}
    for c in cands:
        if c.product and c.category and c.received is not None:
            groups.setdefault((normalise_header(c.product), normalise_header(c.category)), []).append((c.received, c))
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
            key = f"{first.product}+{first.category}@{received:%Y%m%d}"
            for _, m in run:
                out[m.row] = (key, len(run))
    return out


def escalate(cands: list[Candidate], rules: list[Rule]) -> dict[int, Escalation]:
    result = {c.row: Escalation(c.level) for c in cands}
    said: dict[tuple[int, tuple[str, ...]] | tuple[int, str, int], tuple[str, str]] = {}  # tens of thousands of tickets share a few reasons: one text each
    for rule in (r for r in rules if r.enabled):
        if rule.kind == KEYWORD:
            for c in cands:
                hits = tuple(w for w in rule.words if w.lower() in c.description.lower())
                if hits:
                    e = result[c.row]
                    e.level = _raise(e.level, rule.level)
                    e.reasons.append(said.get((id(rule), hits)) or said.setdefault((id(rule), hits), (
                        f"关键词“{'、'.join(hits)}”→{rule.level.name}", f"keyword '{', '.join(hits)}' → {rule.level.name}")))
        elif rule.kind == BATCH:
            for row, (key, size) in batches(cands, rule.count, rule.days).items():
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

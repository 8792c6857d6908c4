"""The classification & responsibility matrix (问题分类与责任矩阵表) and routing by it.

A ticket's category comes from what the clerk typed, or — when blank — from the matrix's keywords
if the description matches exactly one category. A ticket may be 复合型 (several categories,
separated by 、 , + /); the first is the lead and decides the department and owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sheetdesk.rules.problems import Problem
from sheetdesk.rules.records import Table
from sheetdesk.rules.sla import SlaTable, split_list
from sheetdesk.schema import normalise_header

_CATEGORY_SPLIT = re.compile(r"[,，、+＋/／;；]+")


@dataclass(frozen=True)
class MatrixEntry:
    row: int
    category: str
    subcategory: str
    department: str
    owner: str
    collaborators: str
    priority: str
    keywords: tuple[str, ...]


@dataclass
class Matrix:
    entries: list[MatrixEntry]

    def __post_init__(self) -> None:
        self._by_name: dict[str, MatrixEntry] = {}
        for entry in self.entries:  # the first row of a category is its routing row
            self._by_name.setdefault(normalise_header(entry.category), entry)
        self._keywords = [(entry.category, [(k, k.lower()) for k in entry.keywords]) for entry in self.entries
                          if entry.keywords]
        self._lookups: dict[str, MatrixEntry | None] = {}  # a register repeats a handful of categories
        self._rows: dict[str, list[MatrixEntry]] = {}

    def get(self, category: str) -> MatrixEntry | None:
        try:
            return self._lookups[category]
        except KeyError:
            found = self._lookups[category] = self._by_name.get(normalise_header(category))
            return found

    def categories(self) -> list[str]:
        return [e.category for e in self._by_name.values()]

    def match_keywords(self, description: str) -> dict[str, list[str]]:
        """category -> the keywords of that category found in ``description``."""
        found: dict[str, list[str]] = {}
        lowered = description.lower()
        for category, keywords in self._keywords:
            hits = [k for k, low in keywords if low in lowered]
            if hits:
                found.setdefault(category, [])
                found[category].extend(h for h in hits if h not in found[category])
        return found

    def rows_of(self, category: str) -> list[MatrixEntry]:
        """Every matrix row of ``category`` (a category may have one row per subcategory)."""
        wanted = normalise_header(category)
        rows = self._rows.get(wanted)
        if rows is None:  # a register repeats a handful of categories
            rows = self._rows[wanted] = [e for e in self.entries if normalise_header(e.category) == wanted]
        return rows

    def keyword_of(self, category: str, description: str) -> str:
        """What a ticket of ``category`` without a product model is batched by: the matrix row whose
        keywords the description matches — its subcategory when the category has several rows (each
        row a subcategory), else the category itself (its keywords are synonyms: 物流, 快递 and 没收到
        are one logistics problem); '' when no keyword matches."""
        rows = [e for e in self.rows_of(category) if e.keywords]
        lowered = description.lower()
        for entry in rows:
            if any(k.lower() in lowered for k in entry.keywords):
                return entry.subcategory if len(rows) > 1 and entry.subcategory else entry.category
        return ""

    def collaborators_of(self, categories: list[str]) -> str:
        """A 复合型 ticket's collaborating departments: the departments of its other categories (not
        the lead's own), in the order named, each once; '' for a single category."""
        lead = self.get(categories[0]) if categories else None
        seen = {normalise_header(lead.department)} if lead is not None and lead.department else set()
        out: list[str] = []
        for name in categories[1:]:
            entry = self.get(name)
            if entry is not None and entry.department and normalise_header(entry.department) not in seen:
                seen.add(normalise_header(entry.department))
                out.append(entry.department)
        return (", " if all(d.isascii() for d in out) else "、").join(out)


def split_categories(text: str) -> list[str]:
    return [part.strip() for part in _CATEGORY_SPLIT.split(text) if part.strip()]


def read_matrix(table: Table, sla: SlaTable) -> tuple[Matrix, list[Problem]]:
    problems: list[Problem] = []
    entries: list[MatrixEntry] = []
    for row in table.rows:
        category = row.text("category")
        if not category:
            if any(row.text(k) for k in ("department", "owner", "keywords")):
                problems.append(Problem("matrix", row.row, "category", "问题分类为空，这一行不会被使用",
                                        "category is empty; this row is ignored"))
            continue
        priority = row.text("priority")
        if priority and sla.levels and sla.resolve(priority) is None:
            problems.append(Problem(
                "matrix", row.row, "priority",
                f"默认优先级“{priority}”不在时效标准表中，应为：{'、'.join(sla.names())}",
                f"default priority '{priority}' is not in the SLA sheet; expected one of: {', '.join(sla.names())}",
                value=priority))
        entries.append(MatrixEntry(
            row.row, category, row.text("subcategory"), row.text("department"), row.text("owner"),
            row.text("collaborators"), priority, tuple(split_list(row.text("keywords"))),
        ))
    if not entries:
        problems.append(Problem("matrix", None, None, "分类矩阵没有任何分类，无法自动分派",
                                "the matrix has no categories; nothing can be routed", "warning"))
    return Matrix(entries), problems


def subcategory_of(matrix: Matrix, category: str, description: str) -> str:
    """The matrix subcategory a ticket falls in, for the 不满意TOP3 (seed 002: 物流延迟占比25%).

    The matrix names a category's subcategories in one cell (发货延迟、丢件、错发漏发) or gives a
    category several rows, each with its own subcategory and keywords. In order:

    1. an item of the lead category's 子类 cells the description names;
    2. else the row whose keywords the description holds (the keywords the batch rule matches,
       ``Matrix.keyword_of``): its 子类 when it names one item; when it lists several, the item the
       matched keyword belongs to (the item holds the keyword, the keyword holds the item, or they
       share the longest run of two or more characters: 发货 → 发货延迟, 响应慢 → 响应速度);
    3. else, when no item can be told, the matched keyword itself (物流类/快递), so a subcategory is
       never just its category again;
    4. '' when no keyword matches: the ticket counts under its category alone.
    """
    lead = split_categories(category)[:1]
    if not lead or not description:
        return ""
    rows = matrix.rows_of(lead[0])
    lowered = description.lower()
    for entry in rows:
        for item in split_list(entry.subcategory):
            if item.lower() in lowered:
                return item
    for entry in rows:
        hits = [k for k in entry.keywords if k.lower() in lowered]
        if not hits:
            continue
        items = split_list(entry.subcategory)
        if len(items) == 1:
            return items[0]
        for hit in hits:
            item = item_of_keyword(hit, items)
            if item:
                return item
        return hits[0]
    return ""


def item_of_keyword(keyword: str, items: list[str]) -> str:
    """The item of a 子类 cell a matrix keyword belongs to: the first that holds it or that it holds,
    else the one sharing the longest run of at least two characters with it (the first on a tie);
    '' when none does."""
    low = keyword.lower()
    for item in items:
        if low in item.lower() or item.lower() in low:
            return item
    best, length = "", 1
    for item in items:
        common = _longest_common_run(low, item.lower())
        if common > length:
            best, length = item, common
    return best


def _longest_common_run(a: str, b: str) -> int:
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best

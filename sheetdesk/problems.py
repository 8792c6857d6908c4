"""Row problems: data, not exceptions. Each says where (sheet, row, column), what and what is expected."""

from __future__ import annotations

from dataclasses import dataclass

from sheetdesk.limits import join_capped
from sheetdesk.schema import SHEETS_BY_KEY

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True, slots=True)
class Problem:
    sheet: str          # schema sheet key
    row: int | None     # Excel row number; None for sheet-level problems
    column: str | None  # schema column key
    zh: str
    en: str
    level: str = ERROR
    value: object = None

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def cell_text(self, lang: str) -> str:
        """What goes into the row's 校验 cell: column name, then the message."""
        prefix = {INFO: ("提示：", "Note: "), WARNING: ("注意：", "Warning: ")}.get(self.level, ("", ""))
        head = prefix[0] if lang == "zh" else prefix[1]
        if self.column:
            col = SHEETS_BY_KEY[self.sheet].column(self.column).name(lang)
            return f"{head}{col}{'：' if lang == 'zh' else ': '}{self.text(lang)}"
        return head + self.text(lang)

    def location(self, lang: str) -> str:
        sheet = SHEETS_BY_KEY[self.sheet]
        parts = [sheet.name(lang)]
        if self.row is not None:
            parts.append(f"第{self.row}行" if lang == "zh" else f"row {self.row}")
        if self.column:
            parts.append(sheet.column(self.column).name(lang))
        return " ".join(parts) if lang == "zh" else ", ".join(parts)


def join_cell(problems: list[Problem], lang: str) -> str | None:
    """The 校验 cell for a row: every message, separated (as many as fit in a cell, then how many
    more); None when the row is clean."""
    if not problems:
        return None
    return join_capped([p.cell_text(lang) for p in problems], "；" if lang == "zh" else "; ", lang)

"""Row problems: data, not exceptions. Each says where (sheet, row, column), what and what is expected."""

from __future__ import annotations

from dataclasses import dataclass

from sheetdesk.rules.limits import join_capped
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
        return (prefix[0] if lang == "zh" else prefix[1]) + self.plain_text(lang)

    def plain_text(self, lang: str) -> str:
        """Column name and message without the level, for a sentence that states the level itself."""
        if self.column:
            col = SHEETS_BY_KEY[self.sheet].column(self.column).name(lang)
            return f"{col}{'：' if lang == 'zh' else ': '}{self.text(lang)}"
        return self.text(lang)



def join_cell(problems: list[Problem], lang: str) -> str | None:
    """The 校验 cell for a row: every message, separated (as many as fit in a cell, then how many
    more); None when the row is clean."""
    if not problems:
        return None
    return join_capped([p.cell_text(lang) for p in problems], "；" if lang == "zh" else "; ", lang)


def row_list(rows: list[int], skip: int | None = None, limit: int = 8) -> tuple[str, str]:
    """("2、3", "2, 3") naming register rows, but ``skip`` (one of them); past ``limit`` rows it ends in
    等N行 / "and N more" (an ID filled down a whole column must not make every message as long as the column)."""
    shown: list[str] = []
    for r in rows:
        if r != skip:
            if len(shown) == limit:
                more = len(rows) - (skip is not None) - limit
                return "、".join(shown) + f"等{limit + more}", ", ".join(shown) + f" and {more} more"
            shown.append(str(r))
    return "、".join(shown), ", ".join(shown)


def ambiguous_id(sheet: str, row: int, ticket_id: str, rows: list[int]) -> Problem:
    """A log or results row whose ID several register rows hold: it is given to none of them (guessing
    would put one customer's steps or rating on another's ticket)."""
    zh, en = row_list(rows)
    return Problem(
        sheet, row, "id",
        f"编号“{ticket_id}”在登记表中有多行（第{zh}行），无法确定属于哪一张工单，本行暂不计入；请在登记表改正重复的编号",
        f"ID '{ticket_id}' is on several Register rows ({en}), so this row cannot be given to either ticket and is "
        f"not counted; correct the duplicate ID in the Register",
        WARNING, ticket_id)

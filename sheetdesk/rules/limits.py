"""Excel's limits on what one cell holds, applied to every text sheetdesk composes.

Excel refuses to open a file with a cell over 32,767 characters ("We found a problem with some
content"), and LibreOffice cuts such cells silently. A 校验 cell gathers every message of its row and
a message may quote the value it is about, so a crafted or pasted row can push it past the limit;
sheetdesk cuts its own text with a visible marker instead.
"""

from __future__ import annotations

#: the most characters Excel keeps in one cell
CELL_CHARS = 32_767


def cap_text(text: str, lang: str = "zh") -> str:
    """``text`` cut to fit one cell, saying how much was left out."""
    if len(text) <= CELL_CHARS:
        return text
    cut = CELL_CHARS - 40  # room for the marker
    left = len(text) - cut
    return text[:cut] + (f"…（另有 {left} 字）" if lang == "zh" else f"… ({left} more characters)")


def join_capped(parts: list[str], sep: str, lang: str = "zh") -> str:
    """``parts`` joined by ``sep`` into one cell; those that do not fit are counted, not written."""
    out: list[str] = []
    used = 0
    room = CELL_CHARS - 40
    for i, part in enumerate(parts):
        extra = len(part) + (len(sep) if out else 0)
        if used + extra > room:
            left = len(parts) - i
            if not out:  # a single message longer than a cell: cut it
                return cap_text(sep.join(parts), lang)
            return sep.join(out) + (f"…（另有 {left} 条）" if lang == "zh" else f"… ({left} more)")
        out.append(part)
        used += extra
    return sep.join(out)

"""What is inside the xlsx package that the openpyxl save engine would drop.

openpyxl rebuilds the whole file on save and silently loses parts it does not model (measured in
shared/notes/workbook-engineering.md §1). Rather than drop a colleague's chart or a cross-sheet
dropdown, sheetdesk looks first and refuses to write, saying what is at stake.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sheetdesk.errors import UnsupportedContent


@dataclass(frozen=True)
class Finding:
    zh: str
    en: str
    where: str


_ANCHOR = re.compile(rb"<(?:\w+:)?(?:twoCellAnchor|oneCellAnchor|absoluteAnchor)\b")
_SHAPE = re.compile(rb"<(?:\w+:)?sp\b")
_PIC = re.compile(rb"<(?:\w+:)?pic\b")
_CHART_REF = re.compile(rb"<(?:\w+:)?chart\b")

_EXTENSIONS = [
    (rb"x14:dataValidation", "引用其他工作表的下拉列表（x14 扩展）", "dropdown lists that refer to another sheet (x14 extension)"),
    (rb"x14:conditionalFormatting", "Excel 2010 条件格式（数据条/图标集扩展）", "Excel 2010 conditional formats (data bar / icon set extensions)"),
    (rb"x14:sparklineGroup", "迷你图", "sparklines"),
    (rb"x14:slicerList", "切片器", "slicers"),
]


def _drawing_findings(name: str, data: bytes) -> list[Finding]:
    if not _ANCHOR.search(data):
        return []  # LibreOffice writes empty drawings; nothing to lose
    found = []
    if _CHART_REF.search(data):
        found.append(Finding("图表", "charts", name))
    if _PIC.search(data):
        found.append(Finding("图片", "pictures", name))
    if _SHAPE.search(data):
        found.append(Finding("形状或文本框", "shapes or text boxes", name))
    return found


def scan(path: Path) -> list[Finding]:
    """Everything in ``path`` an openpyxl load + save would drop or damage."""
    findings: list[Finding] = []
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        from sheetdesk.errors import BookUnreadable

        raise BookUnreadable(f"{path.name} 已损坏或被截断（{exc}）", f"{path.name} is damaged or truncated ({exc})") from exc
    with zf:
        names = zf.namelist()
        for name in names:
            lower = name.lower()
            if lower.startswith("xl/drawings/drawing") and lower.endswith(".xml"):
                findings.extend(_drawing_findings(name, zf.read(name)))
            elif lower.startswith("xl/worksheets/sheet") and lower.endswith(".xml"):
                data = zf.read(name)
                for marker, zh, en in _EXTENSIONS:
                    if marker in data:
                        findings.append(Finding(zh, en, name))
                if b"<legacyDrawingHF" in data or b"<picture " in data:
                    findings.append(Finding("页眉页脚或背景图片", "header/footer or background pictures", name))
            elif lower == "xl/cellimages.xml":
                findings.append(Finding("WPS 单元格图片", "WPS in-cell pictures", name))
            elif lower.startswith("xl/richdata/"):
                findings.append(Finding("单元格内图片", "in-cell pictures", name))
            elif lower.startswith("xl/ctrlprops/") or lower.startswith("xl/activex/"):
                findings.append(Finding("表单控件", "form controls", name))
            elif lower == "xl/metadata.xml":
                findings.append(Finding("动态数组公式", "dynamic-array formulas", name))
            elif lower == "xl/_rels/vbaproject.bin.rels":
                findings.append(Finding("宏签名", "a signed macro project", name))
            elif lower == "xl/vbaproject.bin" and not path.suffix.lower() == ".xlsm":
                findings.append(Finding("宏", "macros", name))
    unique: dict[tuple[str, str], Finding] = {}
    for f in findings:
        unique.setdefault((f.zh, f.en), f)
    return list(unique.values())


def ensure_savable(path: Path) -> None:
    """Raise :class:`UnsupportedContent` when saving would lose something people made."""
    findings = scan(path)
    if not findings:
        return
    zh_items = "、".join(f.zh for f in findings)
    en_items = ", ".join(f.en for f in findings)
    raise UnsupportedContent(
        f"{path.name} 含有 sheetdesk 目前保存时无法保留的内容：{zh_items}。为免丢失，本次未写入任何内容"
        "（可只读运行 sheetdesk validate；下拉列表请改用“名称管理器”中的名称作为来源）",
        f"{path.name} holds content sheetdesk cannot keep when saving yet: {en_items}. Nothing was written "
        "to avoid losing it (sheetdesk validate still works; for dropdowns use a defined name as the list source)")

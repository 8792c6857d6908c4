"""What is inside the xlsx package that the openpyxl save engine would drop.

openpyxl rebuilds the whole file on save and silently loses parts it does not model. Rather than
drop a colleague's chart, threaded comment or Power Query connection, sheetdesk looks first and
refuses to write, saying what is at stake. The check is an allow-list: every relationship in the
package must be of a type openpyxl is known to carry through a load and save (:data:`KEPT`) or
harmless to lose (:data:`HARMLESS`); anything else — including types nobody has met yet — refuses
the save. Inside the parts it keeps, what openpyxl would still damage (drawings with charts,
pictures or shapes; Excel 2010 extensions in sheets) is looked for as well.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sheetdesk.errors import BookUnreadable, UnsupportedContent


@dataclass(frozen=True)
class Finding:
    zh: str
    en: str
    where: str


#: relationship types (the last segment of their URI) openpyxl reads and writes back
KEPT = frozenset({
    "officeDocument", "core-properties", "extended-properties", "custom-properties", "worksheet",
    "sharedStrings", "styles", "theme", "externalLink", "externalLinkPath", "hyperlink", "comments",
    "vmlDrawing", "drawing", "table", "pivotTable", "pivotCacheDefinition", "pivotCacheRecords",
})
#: relationship types openpyxl drops that Excel rebuilds or that carry nothing people made:
#: the calculation chain, printer driver blobs, the file-browser thumbnail
HARMLESS = frozenset({"calcChain", "printerSettings", "thumbnail"})
#: what people would call the parts openpyxl drops (by relationship type); others are named by their type
_DROPPED_NAMES = {
    "threadedComment": ("Excel 365 对话式批注", "Excel 365 threaded comments"),
    "person": ("Excel 365 对话式批注的作者", "Excel 365 threaded-comment authors"),
    "connections": ("数据连接（Power Query）", "data connections (Power Query)"),
    "queryTable": ("查询表（Power Query）", "query tables (Power Query)"),
    "customXml": ("自定义 XML 部件", "custom XML parts"),
    "customXmlProps": ("自定义 XML 部件", "custom XML parts"),
    "slicer": ("切片器", "slicers"),
    "slicerCache": ("切片器", "slicers"),
    "timeline": ("日程表", "timelines"),
    "timelineCache": ("日程表", "timelines"),
    "webextension": ("Office 加载项", "Office add-ins"),
    "webextensiontaskpanes": ("Office 加载项", "Office add-ins"),
    "powerPivotData": ("数据模型（Power Pivot）", "the data model (Power Pivot)"),
    "model": ("数据模型（Power Pivot）", "the data model (Power Pivot)"),
    "classificationlabels": ("敏感度标签", "sensitivity labels"),
    "chart": ("图表", "charts"),
    "chartsheet": ("图表工作表", "chart sheets"),
    "image": ("图片", "pictures"),
    "sheetMetadata": ("动态数组公式", "dynamic-array formulas"),
    "rdRichValue": ("单元格内图片", "in-cell pictures"),
    "ctrlProp": ("表单控件", "form controls"),
    "control": ("表单控件", "form controls"),
    "vbaProjectSignature": ("宏签名", "a signed macro project"),
}
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb'\b(Type|Target|TargetMode)\s*=\s*"([^"]*)"')

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


def _relationship_findings(zf: zipfile.ZipFile, names: list[str], macros: bool) -> list[Finding]:
    """Every relationship in the package whose type openpyxl is not known to keep."""
    found = []
    for name in names:
        if not name.lower().endswith(".rels"):
            continue
        for rel in _RELATIONSHIP.findall(zf.read(name)):
            attrs = {k.decode(): v.decode("utf-8", "replace") for k, v in _ATTR.findall(rel)}
            kind = attrs.get("Type", "").rstrip("/").rsplit("/", 1)[-1]
            if kind in KEPT or kind in HARMLESS or (kind == "vbaProject" and macros):
                continue
            if kind == "image" and name.lower().startswith("xl/drawings/_rels/vmldrawing"):
                continue  # a comment box's background picture in legacy VML; openpyxl rewrites the VML
            zh, en = _DROPPED_NAMES.get(kind, (f"未知类型的部件（{kind or '无类型'}）", f"parts of an unknown type ({kind or 'no type'})"))
            found.append(Finding(zh, en, attrs.get("Target") or name))
    return found


def scan(path: Path) -> list[Finding]:
    """Everything in ``path`` an openpyxl load + save would drop or damage."""
    findings: list[Finding] = []
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BookUnreadable(f"{path.name} 已损坏或被截断（{exc}）", f"{path.name} is damaged or truncated ({exc})") from exc
    with zf:
        names = zf.namelist()
        findings.extend(_relationship_findings(zf, names, macros=path.suffix.lower() == ".xlsm"))
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

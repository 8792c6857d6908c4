"""What ``sheetdesk import`` reads: the TOML mapping file (which source column feeds which register
column, how source values translate, which column identifies a record) and the export itself — CSV in
whatever encoding and separator the exporting system chose, or a spreadsheet read with calamine."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sheetdesk.errors import BookUnreadable, InputError
from sheetdesk.schema import REGISTER, column_lookup, normalise_header
from sheetdesk.workbook.zipguard import check_package

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: the register columns a mapping may fill: what staff type, and 登记时间 (when the source system
#: registered the row: an export of old calls keeps its own times instead of the moment of the import);
#: never the ID, which the desk issues
IMPORTABLE = tuple(c.key for c in REGISTER.columns if (not c.owned or c.key == "entered") and c.key != "id")
_DELIMITERS = ",\t;|"
_SECTIONS = {"import", "columns", "values", "defaults"}
_IMPORT_KEYS = {"external_ref", "prefix", "sheet", "skip_rows", "encoding"}
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --------------------------------------------------------------------------------------------- mapping

@dataclass
class Mapping:
    """What a mapping file says; the empty mapping means "match headers by name"."""
    path: Path | None = None
    #: register key -> source column names (several are joined into one text)
    columns: dict[str, list[str]] = field(default_factory=dict)
    #: register key -> normalised source value -> desk value
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: register key -> value used when the source leaves the cell blank
    defaults: dict[str, object] = field(default_factory=dict)
    external_ref: str | None = None
    #: put before every reference, so two systems' "1001" stay apart
    prefix: str = ""
    sheet: str | int | None = None
    skip_rows: int = 0
    encoding: str | None = None


def _bad_map(path: Path, zh: str, en: str) -> InputError:
    return InputError(f"映射文件 {path}：{zh}", f"mapping file {path}: {en}")


def _register_key(name: str, path: Path, section: str) -> str:
    """A register column key from its key (``received``) or its header in either language (反馈时间)."""
    key = name if name in {c.key for c in REGISTER.columns} else column_lookup(REGISTER).get(normalise_header(name))
    allowed_zh = "、".join(REGISTER.column(k).zh for k in IMPORTABLE)
    if key is None:
        raise _bad_map(path, f"[{section}] 中的“{name}”不是登记表的列；可用：{allowed_zh}（或其英文键名，如 received）",
                       f"[{section}] '{name}' is not a register column; expected one of: {', '.join(IMPORTABLE)}")
    if key not in IMPORTABLE:
        col = REGISTER.column(key)
        raise _bad_map(path, f"[{section}] 不能写入“{col.zh}”：{'编号由 sheetdesk 分配，来源编号请用 [import] external_ref' if key == 'id' else '这一列由 sheetdesk 填写'}",
                       f"[{section}] cannot fill '{col.en}': "
                       + ("sheetdesk issues IDs; name the source's own number in [import] external_ref" if key == "id"
                          else "sheetdesk fills that column"))
    return key


def load_mapping(path: Path | None) -> Mapping:
    """Read and check a mapping file up front: a typo must stop the import, not reject every row."""
    if path is None:
        return Mapping()
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise InputError(f"找不到映射文件 {path}", f"mapping file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"无法读取映射文件 {path}：{exc}", f"cannot read mapping file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"映射文件 {path} 不是有效的 TOML：{exc}", f"mapping file {path} is not valid TOML: {exc}") from None
    mapping = Mapping(path)
    unknown = set(data) - _SECTIONS
    if unknown:
        raise _bad_map(path, f"未知的节 {', '.join(sorted(unknown))}；可用 [import] [columns] [values.列] [defaults]",
                       f"unknown section(s) {', '.join(sorted(unknown))}; expected [import] [columns] [values.COLUMN] [defaults]")
    for section in _SECTIONS & set(data):
        if not isinstance(data[section], dict):
            raise _bad_map(path, f"{section} 应为一个节 [{section}]", f"{section} must be a table [{section}]")

    opts = data.get("import", {})
    unknown = set(opts) - _IMPORT_KEYS
    if unknown:
        raise _bad_map(path, f"[import] 中未知的设置 {', '.join(sorted(unknown))}；可用：{', '.join(sorted(_IMPORT_KEYS))}",
                       f"unknown [import] setting(s) {', '.join(sorted(unknown))}; expected: {', '.join(sorted(_IMPORT_KEYS))}")
    for key in ("external_ref", "prefix", "encoding"):
        if key in opts and not isinstance(opts[key], str):
            raise _bad_map(path, f"[import] {key} 应为文字", f"[import] {key} must be a string")
    mapping.external_ref = opts.get("external_ref") or None
    mapping.prefix = opts.get("prefix", "")
    mapping.encoding = opts.get("encoding") or None
    if mapping.encoding:
        try:
            codecs.lookup(mapping.encoding)
        except LookupError:
            raise _bad_map(path, f"未知的编码“{mapping.encoding}”，如 gbk、gb18030、utf-8、big5",
                           f"unknown encoding '{mapping.encoding}'; e.g. gbk, gb18030, utf-8, big5") from None
    skip = opts.get("skip_rows", 0)
    if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise _bad_map(path, "[import] skip_rows 应为 0 或正整数（表头上方要跳过的行数）",
                       "[import] skip_rows must be a whole number >= 0 (rows above the header)")
    mapping.skip_rows = skip
    sheet = opts.get("sheet")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))):
        raise _bad_map(path, "[import] sheet 应为工作表名称或序号（从 1 起）", "[import] sheet must be a sheet name or position (from 1)")
    mapping.sheet = sheet

    for name, source in data.get("columns", {}).items():
        key = _register_key(name, path, "columns")
        sources = [source] if isinstance(source, str) else source
        if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s.strip() for s in sources):
            raise _bad_map(path, f"[columns] {name} 应为来源列名，或列名的列表", f"[columns] {name} must be a source column name or a list of them")
        mapping.columns[key] = list(sources)
    for name, table in data.get("values", {}).items():
        key = _register_key(name, path, "values")
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise _bad_map(path, f"[values.{name}] 应为“来源值 = 台账值”的文字对照", f"[values.{name}] must map source values to desk values (strings)")
        mapping.values[key] = {normalise_header(k): v.strip() for k, v in table.items()}
    for name, value in data.get("defaults", {}).items():
        key = _register_key(name, path, "defaults")
        if isinstance(value, (dict, list)):
            raise _bad_map(path, f"[defaults] {name} 应为单个值", f"[defaults] {name} must be a single value")
        mapping.defaults[key] = value
    return mapping


# ---------------------------------------------------------------------------------------------- source

@dataclass
class SourceRow:
    #: the CSV line (or sheet row) where the record starts: what a person finds in the file
    line: int
    cells: list[object]


@dataclass
class Source:
    path: Path
    header: list[str]
    rows: list[SourceRow]
    #: rows above the header, kept so a rejected file has the same shape as the export
    preamble: list[list[object]] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def describe(self, lang: str) -> str:
        if self.sheet is not None:
            return f"工作表“{self.sheet}”" if lang == "zh" else f"sheet '{self.sheet}'"
        names = {",": ("逗号", "comma"), "\t": ("制表符", "tab"), ";": ("分号", "semicolon"), "|": ("竖线", "bar")}
        sep = names.get(self.delimiter or ",", (repr(self.delimiter), repr(self.delimiter)))
        return f"{self.encoding}，{sep[0]}分隔" if lang == "zh" else f"{self.encoding}, {sep[1]}-separated"


def cell_text(value: object) -> str:
    """A source cell as clean text: numbers without '.0', Excel's ``="0123"`` guard removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = str(value).strip().strip("\ufeff").strip()
    if len(text) >= 3 and text.startswith('="') and text.endswith('"'):
        text = text[2:-1].strip()
    if text[:1] == "'" and text[1:].lstrip(" ")[:1] in _CSV_TRIGGERS:  # a rejected file's guard, see csv_cell
        text = text[1:].strip()
    return text


#: what spreadsheet programs take as the start of a formula when they open a CSV (OWASP's list)
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A CSV cell no spreadsheet program runs as a formula: ``'`` before a leading ``= + - @``, tab or
    CR (also after spaces), as OWASP recommends; :func:`cell_text` takes it off again when the fixed file
    is imported."""
    return "'" + text if text[:1] in _CSV_TRIGGERS or text.lstrip(" ")[:1] in _CSV_TRIGGERS else text


def read_source(path: Path, mapping: Mapping) -> Source:
    """The export as header + rows; spreadsheets are told apart by content, not by extension."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到要导入的文件 {path}", f"file to import not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"无法读取 {path}：{exc}", f"cannot read {path}: {exc}") from None
    if not data.strip():
        raise InputError(f"{path.name} 是空文件", f"{path.name} is empty")
    if data.startswith(_ZIP) or data.startswith(_OLE):
        records, sheet = _read_spreadsheet(path, mapping)
        source = _shape(path, records, mapping.skip_rows)
        source.sheet = sheet
        return source
    text, encoding = _decode(data, mapping.encoding, path)
    head = text.lstrip()[:300].lower()
    if head.startswith("<") and any(tag in head for tag in ("<html", "<table", "<?xml", "<!doctype")):
        raise InputError(f"{path.name} 实际是网页/XML 格式（有些系统导出的“xls”就是这样），请在 Excel 中另存为 xlsx 或 CSV 后再导入",
                         f"{path.name} is really HTML/XML (some systems export 'xls' like that); save it as xlsx or CSV in Excel and retry")
    if "\x00" in text:
        raise InputError(f"{path.name} 不是文本（CSV）文件，也不是 xlsx/xls 工作簿", f"{path.name} is neither a text (CSV) file nor an xlsx/xls workbook")
    delimiter = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[object]]] = []
    previous = 0
    try:
        for cells in reader:
            records.append((previous + 1, list(cells)))
            previous = reader.line_num
    except csv.Error as exc:
        raise InputError(f"{path.name} 第{previous + 1}行起无法按 CSV 解析：{exc}",
                         f"{path.name}: cannot parse CSV from line {previous + 1}: {exc}") from None
    source = _shape(path, records, mapping.skip_rows)
    source.encoding, source.delimiter = encoding, delimiter
    return source


def _decode(data: bytes, forced: str | None, path: Path) -> tuple[str, str]:
    """Text and a label for its encoding, decoded strictly. A BOM wins over the mapping (a fixed rejected
    file has one); then the encoding named by ``--encoding`` or the mapping; then UTF-8, then GB18030 —
    which decodes almost any bytes, so what it gives must also look like text typed in GBK (see
    :func:`_garbled_line`): a Big5 or Shift-JIS export, or a GBK file with a UTF-8 row, is refused with
    its line instead of being imported as garbled text."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", "UTF-8 (BOM)", path), "UTF-8 (BOM)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", "UTF-16", path), "UTF-16"
    if forced:
        return _strict(data, forced, forced, path), forced
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        not_utf8 = _line_of(data, exc.start)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"无法识别 {path.name} 的文字编码：不是 UTF-8（第 {not_utf8} 行），也不是 GBK（第 {_line_of(data, exc.start)} 行）；"
            "文件可能混用了编码。请用 --encoding 指明，如 --encoding big5、--encoding shift_jis",
            f"cannot tell the text encoding of {path.name}: not UTF-8 (line {not_utf8}) nor GBK (line "
            f"{_line_of(data, exc.start)}); the file may mix encodings. Name it with --encoding, e.g. --encoding big5 "
            "or --encoding shift_jis") from None
    bad = _garbled_line(text)
    if bad is not None:
        raise InputError(
            f"{path.name} 不是 UTF-8（第 {not_utf8} 行），按 GBK 解码第 {bad} 行是乱码；可能是 Big5（繁体）、Shift-JIS（日文）"
            "或混用了编码。请用 --encoding 指明，如 --encoding big5；确为 GBK 时用 --encoding gbk",
            f"{path.name} is not UTF-8 (line {not_utf8}), and read as GBK line {bad} is garbled: it may be Big5, "
            "Shift-JIS or mixed encodings. Name it with --encoding, e.g. --encoding big5 (--encoding gbk if it really is GBK)")
    return text, "GBK/GB18030"


def _strict(data: bytes, encoding: str, label: str, path: Path) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        raise InputError(f"{path.name} 第 {line} 行不是 {label} 编码（无法解码）；请用 --encoding 指明正确的编码",
                         f"{path.name} line {line} is not {label} (undecodable); name the right encoding with --encoding") from None
    at = next((i for i, c in enumerate(text) if _unreadable(c)), None)
    if at is not None:
        line = text.count("\n", 0, at) + 1
        raise InputError(f"{path.name} 第 {line} 行按 {label} 解码出无法显示的字符；请用 --encoding 指明正确的编码",
                         f"{path.name} line {line} decodes as {label} to unreadable characters; name the right encoding "
                         "with --encoding")
    return text


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _unreadable(c: str) -> bool:
    """A replacement character, or one from the private-use area no exporting system writes on purpose."""
    return c == "\ufffd" or "\ue000" <= c <= "\uf8ff"


def _garbled_line(text: str) -> int | None:
    """The first line of GB18030-decoded text that cannot be what a person typed in GBK: a private-use
    character (Big5 and UTF-8 bytes land there), or mostly characters outside GB2312's 6,763 common
    ones. Names use a rare character or two (喆, 堃) and GBK holds traditional ones (戶), so a line needs
    at least four rare characters making half its Chinese text to count (Shift-JIS read as GBK is
    nearly all rare characters)."""
    for number, line in enumerate(text.split("\n"), 1):
        if line.isascii():
            continue
        if any(_unreadable(c) for c in line):
            return number
        han = [c for c in line if c >= "\u2e80"]
        rare = sum(1 for c in han if not _in_gb2312(c))
        if rare >= 4 and 2 * rare >= len(han):
            return number
    return None


@functools.lru_cache(maxsize=None)
def _in_gb2312(c: str) -> bool:
    try:
        c.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _sniff(text: str) -> str:
    """The delimiter: csv.Sniffer's answer when the first lines agree with it, else the most used one."""
    sample = text[:32768]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[:sample.rfind("\n")]
    lines = [line for line in sample.splitlines() if line.strip()][:20]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        found = ""
    if found and any(found in line for line in lines):
        return found
    counts = {d: max((line.count(d) for line in lines), default=0) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_spreadsheet(path: Path, mapping: Mapping) -> tuple[list[tuple[int, list[object]]], str]:
    from python_calamine import CalamineWorkbook  # the Rust reader is loaded only when a spreadsheet is imported

    if zipfile.is_zipfile(path):  # an .xls is no zip: calamine reads it; an xlsx is checked for bombs first
        try:
            check_package(path)
        except BookUnreadable as exc:
            raise InputError(exc.zh, exc.en) from None
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
    except Exception as exc:  # calamine raises its own kinds for damaged, encrypted or unknown files
        raise InputError(f"无法读取 {path.name}：{exc}（不是有效的 xlsx/xls 文件，或已加密）",
                         f"cannot read {path.name}: {exc} (not a valid xlsx/xls file, or encrypted)") from None
    want = mapping.sheet
    if want is None:
        name = names[0] if names else None
    elif isinstance(want, int):
        name = names[want - 1] if 1 <= want <= len(names) else None
    else:
        name = next((n for n in names if n == want), None) or next(
            (n for n in names if normalise_header(n) == normalise_header(want)), None)
    if name is None:
        raise InputError(f"{path.name} 中没有工作表“{want}”；现有：{'、'.join(names)}",
                         f"{path.name} has no sheet '{want}'; it has: {', '.join(names)}")
    try:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:
        raise InputError(f"无法读取 {path.name} 的工作表“{name}”：{exc}", f"cannot read sheet '{name}' of {path.name}: {exc}") from None
    return [(i, [None if c == "" else c for c in row]) for i, row in enumerate(rows, 1)], name


def _shape(path: Path, records: list[tuple[int, list[object]]], skip_rows: int) -> Source:
    """Split records into the rows above the header, the header, and the non-blank data rows."""
    preamble: list[list[object]] = []
    header: list[str] | None = None
    rows: list[SourceRow] = []
    for line, cells in records:
        blank = not any(cell_text(c) for c in cells)
        if header is None:
            if len(preamble) < skip_rows or blank:
                preamble.append(cells)
            else:
                header = [cell_text(c) for c in cells]
            continue
        if not blank:
            rows.append(SourceRow(line, cells))
    if header is None:
        raise InputError(f"{path.name} 中没有表头行（跳过 {skip_rows} 行之后为空）",
                         f"{path.name} has no header row (nothing after skipping {skip_rows} rows)")
    return Source(path, header, rows, preamble)

"""Bulk intake (``sheetdesk import``): call-centre, chat-tool and shop-platform exports into the register.

Exports come as CSV in whatever encoding the exporting system likes (UTF-8, UTF-8 with BOM,
GBK/GB18030, UTF-16; comma, tab, semicolon or bar separated) or as spreadsheets (xlsx/xls/ods, read
with calamine). A TOML mapping file says which source column feeds which register column, how source
values translate into the desk's lists, and which column identifies a record. That identifier lands in
the register's 外部编号/External ref column, so importing the same export twice adds nothing twice.

Rows are judged by the refresh's own rules, not a second rulebook: a read-only run with every candidate
appended says which rows would carry errors; those are rejected (listed, and written to
``rejected-*.csv`` beside the input) and the rest land in one real run. Nothing here writes the
workbook; rows reach it only through :func:`sheetdesk.app.desk.run`.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib.resources import files
from pathlib import Path
from typing import Callable

from sheetdesk.app import desk
from sheetdesk.app.append import Append
from sheetdesk.errors import BookNotFound, BookUnreadable, InputError
from sheetdesk.rules import dates
from sheetdesk.rules.problems import ERROR
from sheetdesk.schema import EXTERNAL_REF_HEADERS, REGISTER, column_lookup, desk_language, find_sheet, normalise_header
from sheetdesk.workbook.zipguard import check_package

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: the register column holding the source's record identifier (outside the contract: people's column)
#: the column a rejected file adds after the source's columns
REASON_HEADERS = ("拒绝原因", "Reason")
#: files with more data rows than this get a progress bar
PROGRESS_ROWS = 1000

_TIME_KEYS = ("received", "purchase_date", "entered")
#: register columns an import may fill: people's columns except the ID, which the desk issues
#: the register columns a mapping may fill: what staff type, and 登记时间 (when the source system
#: registered the row: an export of old calls keeps its own times instead of the moment of the import)
IMPORTABLE = tuple(c.key for c in REGISTER.columns if (not c.owned or c.key == "entered") and c.key != "id")
_DELIMITERS = ",\t;|"
_SECTIONS = {"import", "columns", "values", "defaults"}
_IMPORT_KEYS = {"external_ref", "prefix", "sheet", "skip_rows", "encoding"}
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REF_NAMES = {normalise_header(n) for n in EXTERNAL_REF_HEADERS}


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


def _text(value: object) -> str:
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
    if text[:1] == "'" and text[1:].lstrip(" ")[:1] in _CSV_TRIGGERS:  # a rejected file's guard, see _csv_cell
        text = text[1:].strip()
    return text


#: what spreadsheet programs take as the start of a formula when they open a CSV (OWASP's list)
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(text: str) -> str:
    """A CSV cell no spreadsheet program runs as a formula: ``'`` before a leading ``= + - @``, tab or
    CR (also after spaces), as OWASP recommends; :func:`_text` takes it off again when the fixed file
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
        blank = not any(_text(c) for c in cells)
        if header is None:
            if len(preamble) < skip_rows or blank:
                preamble.append(cells)
            else:
                header = [_text(c) for c in cells]
            continue
        if not blank:
            rows.append(SourceRow(line, cells))
    if header is None:
        raise InputError(f"{path.name} 中没有表头行（跳过 {skip_rows} 行之后为空）",
                         f"{path.name} has no header row (nothing after skipping {skip_rows} rows)")
    return Source(path, header, rows, preamble)


# ------------------------------------------------------------------------------------------- columns

def _find_column(header: list[str], name: str) -> int | None:
    for i, h in enumerate(header):
        if h == name.strip():
            return i
    wanted = normalise_header(name)
    return next((i for i, h in enumerate(header) if h and normalise_header(h) == wanted), None)


def resolve_columns(source: Source, mapping: Mapping) -> tuple[dict[str, list[int]], int | None]:
    """register key -> source column indexes, and the reference column; a mismatch stops the import."""
    columns: dict[str, list[int]] = {}
    listed = "、".join(h for h in source.header if h) or "（无）"
    listed_en = ", ".join(h for h in source.header if h) or "(none)"
    where = mapping.path
    if mapping.columns:
        for key, names in mapping.columns.items():
            idxs = []
            for name in names:
                i = _find_column(source.header, name)
                if i is None:
                    raise InputError(f"映射文件 {where} 的 [columns] {key} 指向“{name}”，但 {source.path.name} 中没有这一列；文件的列：{listed}",
                                     f"mapping file {where}: [columns] {key} names '{name}', which {source.path.name} lacks; "
                                     f"its columns: {listed_en}")
                idxs.append(i)
            columns[key] = idxs
    else:
        lookup = column_lookup(REGISTER)
        for i, h in enumerate(source.header):
            key = lookup.get(normalise_header(h))
            if key in IMPORTABLE and key not in columns:
                columns[key] = [i]
    ref: int | None = None
    if mapping.external_ref:
        ref = _find_column(source.header, mapping.external_ref)
        if ref is None:
            raise InputError(f"映射文件 {where} 的 [import] external_ref 指向“{mapping.external_ref}”，但 {source.path.name} 中没有这一列；文件的列：{listed}",
                             f"mapping file {where}: [import] external_ref names '{mapping.external_ref}', which "
                             f"{source.path.name} lacks; its columns: {listed_en}")
    else:
        ref = next((i for i, h in enumerate(source.header) if normalise_header(h) in _REF_NAMES), None)
    missing = [k for k in REGISTER.required_keys if k not in columns and k not in mapping.defaults]
    if missing:
        zh = "、".join(REGISTER.column(k).zh for k in missing)
        en = ", ".join(REGISTER.column(k).en for k in missing)
        if mapping.path is None:
            raise InputError(f"{source.path.name} 的表头与登记表对不上，缺少：{zh}；文件的列：{listed}。请用 --map 指定映射文件（见 docs/import.md）",
                             f"the headers of {source.path.name} do not match the register; missing: {en}; its columns: "
                             f"{listed_en}. Give a mapping file with --map (see docs/import.md)")
        raise InputError(f"映射文件 {where} 没有为必填列 {zh} 指定来源列（[columns]）或默认值（[defaults]）",
                         f"mapping file {where} gives no source column ([columns]) or default ([defaults]) for required {en}")
    return columns, ref


# ------------------------------------------------------------------------------------------ the book

def existing_refs(book: Path) -> tuple[set[str], str]:
    """References already in the register's 外部编号 column, and the desk's language; read-only (calamine)."""
    from python_calamine import CalamineWorkbook

    if not book.exists():
        raise BookNotFound.at(book, suggest_init=True)
    if not zipfile.is_zipfile(book):
        raise BookUnreadable(f"{book.name} 不是有效的 xlsx 文件（可能已损坏、被截断，或是旧版 .xls/加密文件）",
                             f"{book.name} is not a valid xlsx file (damaged, truncated, an old .xls or encrypted)")
    check_package(book)
    try:
        wb = CalamineWorkbook.from_path(str(book))
        names = list(wb.sheet_names)
        lang = desk_language(names)
        name = find_sheet(names, REGISTER)
        if name is None:
            return set(), lang  # the refresh reports the missing sheet, in its own words
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:
        raise BookUnreadable(f"无法读取 {book.name}：{exc}", f"cannot read {book.name}: {exc}") from None
    lookup = column_lookup(REGISTER)
    best, header = -1, 0
    for i, row in enumerate(rows[:30]):
        hits = len({lookup[k] for k in (normalise_header(_text(c)) for c in row) if k in lookup})
        if hits > best:
            best, header = hits, i
    if not rows:
        return set(), lang
    col = next((j for j, c in enumerate(rows[header]) if normalise_header(_text(c)) in _REF_NAMES), None)
    if col is None:
        return set(), lang
    return {_text(row[col]) for row in rows[header + 1:] if col < len(row) and _text(row[col])}, lang


# ------------------------------------------------------------------------------------------ the rows

@dataclass
class Reason:
    """Why a row was not imported: where in the source, which value, what the desk expects."""
    zh: str
    en: str
    column: str | None = None   # the source column(s); None when the value did not come from the source
    value: str = ""
    key: str | None = None      # the register column it was meant for
    default: bool = False       # the value came from [defaults]

    def where(self, lang: str) -> str:
        if self.column:
            return self.column
        if self.key:
            name = REGISTER.column(self.key).name(lang)
            return (f"{name}（默认值）" if lang == "zh" else f"{name} (default)") if self.default else name
        return ""

    def text(self, lang: str) -> str:
        why = self.zh if lang == "zh" else self.en
        where = self.where(lang)
        if where and self.value:
            return f"{where}“{self.value}”：{why}" if lang == "zh" else f"{where} '{self.value}': {why}"
        if where:
            return f"{where}：{why}" if lang == "zh" else f"{where}: {why}"
        return why


@dataclass
class Candidate:
    row: SourceRow
    values: dict[str, object]
    #: register key -> (source column label or None for a default, the source text)
    origin: dict[str, tuple[str | None, str]]


@dataclass
class Rejected:
    row: SourceRow
    reasons: list[Reason]


@dataclass
class Skipped:
    row: SourceRow
    ref: str
    #: the earlier line of this file with the same reference; None = already in the register
    repeats: int | None = None


@dataclass
class ImportJob:
    """A checked import, ready to run: mapping and source read, columns resolved."""
    book: Path
    source: Source
    mapping: Mapping
    columns: dict[str, list[int]]
    ref_column: int | None

    @property
    def size(self) -> int:
        return len(self.source.rows)

    @property
    def steps(self) -> int:
        """Progress units: one per row for mapping, as many again for the two desk runs."""
        return 2 * self.size + 2


@dataclass
class ImportResult:
    job: ImportJob
    #: (source row, new ID) of every row that landed (ID None on a dry run)
    imported: list[tuple[SourceRow, str | None]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    dry_run: bool = False
    run: object = None  # the real run's desk.RunResult
    rejected_file: Path | None = None
    #: why the rejected file could not be written (the import itself stands)
    rejected_error: str | None = None


def prepare(book: Path, file: Path, map_path: Path | None, encoding: str | None = None) -> ImportJob:
    """Everything that can fail before the desk is touched: mapping, file, columns. ``encoding``
    (``--encoding``) overrides the mapping's."""
    mapping = load_mapping(map_path)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"未知的编码“{encoding}”，如 gbk、gb18030、utf-8、big5、shift_jis",
                             f"unknown encoding '{encoding}'; e.g. gbk, gb18030, utf-8, big5, shift_jis") from None
        mapping.encoding = encoding
    source = read_source(Path(file), mapping)
    columns, ref = resolve_columns(source, mapping)
    return ImportJob(Path(book), source, mapping, columns, ref)


def _cell(row: SourceRow, i: int) -> object:
    return row.cells[i] if i < len(row.cells) else None


def _safe(text: str) -> str:
    """Text that stays text in Excel: a leading '=' would become a formula (full-width ＝ looks the same)."""
    return "＝" + text[1:] if text.startswith("=") else text


def _candidate(job: ImportJob, row: SourceRow, lang: str) -> Candidate:
    header, mapping = job.source.header, job.mapping
    values: dict[str, object] = {}
    origin: dict[str, tuple[str | None, str]] = {}
    for key, idxs in job.columns.items():
        label = "、".join(header[i] for i in idxs)
        if key in _TIME_KEYS:
            raw = next((_cell(row, i) for i in idxs if _text(_cell(row, i))), None)
            text = _text(raw)
            moment, ok = dates.to_datetime(raw.strip() if isinstance(raw, str) else raw)
            value: object = moment if ok and moment is not None else _safe(text)
        else:
            parts = [(header[i], _text(_cell(row, i))) for i in idxs]
            parts = [(h, t) for h, t in parts if t]
            sep, colon = ("；", "：") if lang == "zh" else ("; ", ": ")
            text = sep.join(t if n == 0 else f"{h}{colon}{t}" for n, (h, t) in enumerate(parts))
            value = _safe(text)
            table = mapping.values.get(key)
            if table and text and normalise_header(text) in table:
                value = table[normalise_header(text)]
        origin[key] = (label, text)
        if value != "":
            values[key] = value
    for key, default in mapping.defaults.items():
        if values.get(key) in (None, ""):
            values[key] = default
            origin[key] = (None, _text(default))
    return Candidate(row, values, origin)


def _ref(job: ImportJob, cand: Candidate) -> str:
    if job.ref_column is not None:
        text = _text(_cell(cand.row, job.ref_column))
        return job.mapping.prefix + text if text else ""
    # no identifier in the export: the record's content is its identity
    v = cand.values
    basis = "\x1f".join(_text(v.get(k)) for k in ("received", "channel", "customer", "contact", "description"))
    return job.mapping.prefix + "hash:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:12]


def _desk_reason(cand: Candidate, problem) -> Reason:
    source_col, text = cand.origin.get(problem.column, (None, ""))
    default = problem.column in cand.origin and source_col is None
    return Reason(problem.zh, problem.en, source_col, text, problem.column, default)


def run_import(job: ImportJob, *, now: datetime, force: bool = False, dry_run: bool = False, lang: str = "zh",
               advance: Callable[[int], None] | None = None) -> ImportResult:
    """Dedupe, judge every row with the desk's rules, append the good ones, write the rejected file."""
    step = advance or (lambda n: None)
    result = ImportResult(job, dry_run=dry_run)
    known, desk_lang = existing_refs(job.book)
    seen: dict[str, int] = {}
    candidates: list[Candidate] = []
    ref_label = job.source.header[job.ref_column] if job.ref_column is not None else None
    for n, row in enumerate(job.source.rows, 1):
        cand = _candidate(job, row, desk_lang)
        ref = _ref(job, cand)
        if not ref:
            result.rejected.append(Rejected(row, [Reason(
                "外部编号为空，无法判断是否已导入过", "the external reference is blank, so a re-import could not be recognised",
                ref_label)]))
        elif ref in known:
            result.skipped.append(Skipped(row, ref))
        elif ref in seen:
            result.skipped.append(Skipped(row, ref, seen[ref]))
        else:
            seen[ref] = row.line
            cand.values["external_ref"] = ref
            candidates.append(cand)
        if n % 200 == 0:
            step(200)
    step(job.size % 200 + 1)

    good = candidates
    if candidates:
        check = desk.run(job.book, now=now, write=False,
                         append=Append("register", rows=[c.values for c in candidates], refuse=()))
        by_row = dict(zip(check.appended.row_numbers, candidates))
        bad: dict[int, list[Reason]] = {}
        for p in check.problems:
            if p.sheet == "register" and p.level == ERROR and p.row in by_row:
                bad.setdefault(p.row, []).append(_desk_reason(by_row[p.row], p))
        good = [c for r, c in by_row.items() if r not in bad]
        result.rejected += [Rejected(by_row[r].row, reasons) for r, reasons in bad.items()]
    step(job.size // 2)

    if good and not dry_run:
        done = desk.run(job.book, now=now, force=force,
                        append=Append("register", rows=[c.values for c in good], refuse=()), lean=True)
        result.run = done
        result.imported = list(zip((c.row for c in good), done.new_ids))
    else:
        result.imported = [(c.row, None) for c in good]
    step(job.size - job.size // 2 + 1)

    result.rejected.sort(key=lambda r: r.row.line)
    if result.rejected and not dry_run:
        try:
            result.rejected_file = write_rejected(result, lang, now)
        except OSError as exc:
            result.rejected_error = str(exc)
    return result


def rejected_path(source: Path, now: datetime) -> Path:
    """``rejected-<stem>-<YYYYmmdd-HHMMSS>.csv`` beside the input; never over an earlier one."""
    base = f"rejected-{source.stem}-{now:%Y%m%d-%H%M%S}"
    target, n = source.with_name(base + ".csv"), 2
    while target.exists():
        target, n = source.with_name(f"{base}-{n}.csv"), n + 1
    return target


def write_rejected(result: ImportResult, lang: str, now: datetime) -> Path:
    """The rejected rows as the export had them plus a reason column: fix them and import the file again.

    UTF-8 with BOM so Excel opens it right; the rows above the header are kept so the same mapping
    (``skip_rows``) fits.
    """
    source = result.job.source
    target = rejected_path(source.path, now)
    width = len(source.header)
    sep = "；" if lang == "zh" else "; "
    with target.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        for cells in source.preamble:
            texts = [c if isinstance(c, str) else _text(c) for c in cells]
            while texts and not texts[-1]:
                texts.pop()
            out.writerow([_csv_cell(t) for t in texts])
        out.writerow([_csv_cell(t) for t in source.header + [REASON_HEADERS[0 if lang == "zh" else 1]]])
        for rej in result.rejected:
            cells = [c if isinstance(c, str) else _text(c) for c in rej.row.cells]
            cells += [""] * (width - len(cells))
            out.writerow([_csv_cell(t) for t in cells + [sep.join(r.text(lang) for r in rej.reasons)]])
    return target


def write_examples(directory: Path) -> list[Path]:
    """Copy the example exports and their maps into ``directory`` (``sheetdesk import --example``).

    They ship inside the package, so a plain ``pip install`` has them without the repository. A file
    already there with other content (a map someone edited) is never overwritten; nothing is written
    then."""
    source = files("sheetdesk") / "examples" / "import"
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} 不是目录", f"{directory} is not a directory")
    planned: list[tuple[Path, bytes]] = []
    for item in sorted(source.iterdir(), key=lambda p: p.name):
        if not item.is_file():
            continue
        data, target = item.read_bytes(), directory / item.name
        if target.exists() and (target.is_dir() or target.read_bytes() != data):
            raise InputError(f"{target} 已存在且内容不同，不会覆盖；请换一个目录",
                             f"{target} already exists with other content and will not be overwritten; "
                             f"choose another directory")
        planned.append((target, data))
    directory.mkdir(parents=True, exist_ok=True)
    for target, data in planned:
        target.write_bytes(data)
    return [target for target, _ in planned]

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
import hashlib
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Callable

from sheetdesk.app import desk
from sheetdesk.app.append import Append
from sheetdesk.app.import_files import (
    IMPORTABLE,
    Mapping,
    Source,
    SourceRow,
    cell_text,
    csv_cell,
    load_mapping,
    read_source,
)
from sheetdesk.errors import BookNotFound, BookUnreadable, InputError
from sheetdesk.rules import dates
from sheetdesk.rules.problems import ERROR
from sheetdesk.schema import EXTERNAL_REF_HEADERS, REGISTER, column_lookup, desk_language, find_sheet, normalise_header
from sheetdesk.workbook.zipguard import check_package

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass

#: the column a rejected file adds after the source's columns
REASON_HEADERS = ("拒绝原因", "Reason")
#: files with more data rows than this get a progress bar
PROGRESS_ROWS = 1000

#: register columns whose source text is read as a date and time
_TIME_KEYS = ("received", "purchase_date", "entered")
_REF_NAMES = {normalise_header(n) for n in EXTERNAL_REF_HEADERS}


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
        hits = len({lookup[k] for k in (normalise_header(cell_text(c)) for c in row) if k in lookup})
        if hits > best:
            best, header = hits, i
    if not rows:
        return set(), lang
    col = next((j for j, c in enumerate(rows[header]) if normalise_header(cell_text(c)) in _REF_NAMES), None)
    if col is None:
        return set(), lang
    return {cell_text(row[col]) for row in rows[header + 1:] if col < len(row) and cell_text(row[col])}, lang


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
            raw = next((_cell(row, i) for i in idxs if cell_text(_cell(row, i))), None)
            text = cell_text(raw)
            moment, ok = dates.to_datetime(raw.strip() if isinstance(raw, str) else raw)
            value: object = moment if ok and moment is not None else _safe(text)
        else:
            parts = [(header[i], cell_text(_cell(row, i))) for i in idxs]
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
            origin[key] = (None, cell_text(default))
    return Candidate(row, values, origin)


def _ref(job: ImportJob, cand: Candidate) -> str:
    if job.ref_column is not None:
        text = cell_text(_cell(cand.row, job.ref_column))
        return job.mapping.prefix + text if text else ""
    # no identifier in the export: the record's content is its identity
    v = cand.values
    basis = "\x1f".join(cell_text(v.get(k)) for k in ("received", "channel", "customer", "contact", "description"))
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
            texts = [c if isinstance(c, str) else cell_text(c) for c in cells]
            while texts and not texts[-1]:
                texts.pop()
            out.writerow([csv_cell(t) for t in texts])
        out.writerow([csv_cell(t) for t in source.header + [REASON_HEADERS[0 if lang == "zh" else 1]]])
        for rej in result.rejected:
            cells = [c if isinstance(c, str) else cell_text(c) for c in rej.row.cells]
            cells += [""] * (width - len(cells))
            out.writerow([csv_cell(t) for t in cells + [sep.join(r.text(lang) for r in rej.reasons)]])
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

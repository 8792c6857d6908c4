"""Per-ticket result reports (售后服务反馈及处理结果报告) and their append-only archive.

A report is written once a supervisor has reviewed the ticket (审核人 and 审核日期 filled); a major
problem — at the most urgent level, or 批量问题 — also needs the service manager's second review
(复核人 and 复核日期, seed 003) and waits for it until then. The
archive keeps every version: the content of a report is hashed (its data, not the file bytes), an
unchanged ticket writes nothing, a changed one becomes ``ID.v2.xlsx`` beside the first. The
external copy masks the customer and every contact — also inside free text such as log notes —
because it is the one that leaves the team.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

from sheetdesk.app.desk import RunResult
from sheetdesk.errors import InputError, SheetdeskError
from sheetdesk.rules import dates
from sheetdesk.rules.contacts import contact_text, mask_contact, mask_name, scrub_text
from sheetdesk.rules.ids import file_name_problem
from sheetdesk.rules.problems import row_list
from sheetdesk.rules.report import Report, Stage, Step
from sheetdesk.rules.results import rating_name
from sheetdesk.rules.tracker import STAGE_NAMES
from sheetdesk.schema import STAGES, step_name
from sheetdesk.settings import DEFAULT_TIMEZONE, desk_time

ARCHIVE = "archive"


class PdfUnavailable(SheetdeskError):
    """--pdf without LibreOffice."""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return dates.fmt(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _reviewed(result: RunResult) -> dict:
    reviewed = {}
    for r in result.results or []:
        if r.reviewer and r.reviewed_on:
            reviewed[r.ticket_id] = r  # the last reviewed row of a ticket wins (its 复核 too)
    return reviewed


def major_reason(status, escalation) -> tuple[str, str] | None:
    """Why a ticket is a major problem needing the manager's second review (None: it is not): it is
    at the most urgent level (typed or escalated), or a batch (批量问题)."""
    if escalation is not None and escalation.batch_key:
        return "批量问题", "batch problem"
    if status.rank == 0:
        return f"最高级别 {status.effective}", f"most urgent level {status.effective}"
    return None


def awaiting_second_review(result: RunResult) -> dict[str, tuple[str, str]]:
    """Reviewed major tickets whose 复核人/复核日期 are not both filled: ID -> why it is major (zh, en)."""
    reviewed = _reviewed(result)
    conflicts = result.plan.conflicts if result.plan else {}
    out: dict[str, tuple[str, str]] = {}
    for s in result.statuses:
        t = s.ticket
        r = reviewed.get(t.id or "")
        if r is None or t.id in conflicts or (r.second_reviewer and r.second_reviewed_on):
            continue
        reason = major_reason(s, result.escalations.get(t.row))
        if reason:
            out.setdefault(t.id, reason)  # type: ignore[arg-type]
    return out


def build_reports(result: RunResult) -> dict[str, Report]:
    """Reports of every reviewed ticket of a refresh result, by ID, but for the major ones still
    awaiting their second review. An ID several register rows hold gets none: its results rows
    belong to no ticket, and a report must name one customer."""
    lang = result.desk_lang
    conflicts = result.plan.conflicts if result.plan else {}
    reviewed = _reviewed(result)
    waiting = awaiting_second_review(result)
    out: dict[str, Report] = {}
    for s in result.statuses:
        t = s.ticket
        r = reviewed.get(t.id or "")
        if r is None or t.id in out or t.id in conflicts or t.id in waiting:
            continue
        v = t.values
        escalation = result.escalations.get(t.row)
        steps = [Step(e.time, step_name(e.step, lang), e.by, e.note) for e in s.rollup.entries if e.row]
        stages = _stages(s, lang)
        rating = rating_name(r.rating, lang) if r.rating else ""
        raw = r.values.get("satisfaction")
        if r.score is not None and raw is not None:
            rating = f"{rating}（{_text(raw)}）" if lang == "zh" else f"{rating} ({_text(raw)})"
        out[t.id] = Report(  # type: ignore[index]
            lang, t.id, t.customer, contact_text(v.get("contact")), t.received, _text(v.get("channel")),  # type: ignore[arg-type]
            _text(v.get("product")), _text(v.get("description")), _text(v.get("expectation")), t.category,
            s.effective, escalation.reason(lang) or "" if escalation else "", t.department, t.owner,
            s.states["closed"].due, steps, stages, _text(r.values.get("result")), rating,
            _text(r.values.get("comment")), _text(r.values.get("prepared_by")),
            dates.to_date(r.values.get("prepared_on"))[0], r.reviewer, r.reviewed_on, _text(r.values.get("remarks")),
            **_lateness(stages, r.overdue_reason, lang), second_reviewer=r.second_reviewer,
            second_reviewed_on=r.second_reviewed_on)
    return out


def _stages(status, lang: str) -> list[Stage]:
    """The stage table. 问题关闭 completes the stages nobody logged (so the SLA counts them); the
    report shows those as done with the close, not as a time someone did them."""
    rollup = status.rollup
    logged = {(e.step, e.time) for e in rollup.entries if e.row}
    stages = []
    for stage in STAGES:
        st = status.states[stage]
        if st.due is None and st.done is None:
            continue
        met = None if st.due is None else (st.done is not None and st.done <= st.due)
        with_close = (stage != "closed" and rollup.closed and st.done is not None and st.done == rollup.closed_at
                      and (stage, st.done) not in logged)
        stages.append(Stage(STAGE_NAMES[stage][0 if lang == "zh" else 1], st.due, st.done, met, with_close))
    return stages


def _lateness(stages: list[Stage], reason: str, lang: str) -> dict[str, str]:
    """超时环节 and 超时原因 when a stage missed its deadline (or someone gave a reason anyway)."""
    late = [st.name for st in stages if st.met is False]
    if not late and not reason:
        return {}
    missing = "（未填写）" if lang == "zh" else "(not given)"
    return {"late_stages": ("、" if lang == "zh" else ", ").join(late),
            "overdue_reason": reason or (missing if late else "")}


def _scrub(text: str, names: list[str]) -> str:
    return scrub_text(text, names)


def external_copy(report: Report) -> Report:
    """The copy that may leave the team: customer 王**, contacts 138****5678, also inside free text."""
    names = [report.customer]
    ext = Report(**{**asdict(report), "steps": [], "stages": list(report.stages)})
    ext.steps = [Step(s.time, s.step, s.by, _scrub(s.note, names)) for s in report.steps]
    ext.customer = mask_name(report.customer)
    ext.contact = mask_contact(report.contact, report.channel) if report.contact else ""
    for name in ("product", "description", "expectation", "result", "satisfaction", "comment", "remarks"):
        setattr(ext, name, _scrub(getattr(report, name), names))
    # what stays inside the team: escalation and batch keys, SLA attainment and lateness (the
    # register's 内部备注 is in no report at all)
    ext.escalation = ext.late_stages = ext.overdue_reason = ""
    ext.stages = []
    ext.external = True
    return ext


# --- the archive ----------------------------------------------------------------------------

@dataclass
class Archived:
    id: str
    version: int
    path: Path
    digest: str
    external: bool
    written: bool  # False: unchanged, nothing written


def archive_dir(book: Path) -> Path:
    return Path(book).resolve().parent / ARCHIVE


def _folder(root: Path, report: Report) -> Path:
    return root / f"{report.received:%Y}" / f"{report.received:%m}"


def _versions(folder: Path, ticket_id: str, external: bool) -> list[tuple[int, Path]]:
    stem = f"{ticket_id}.external" if external else ticket_id
    found = []
    if not folder.is_dir():
        return found
    pattern = re.compile(re.escape(stem) + r"(?:\.v(\d+))?\.xlsx$")
    for p in folder.iterdir():
        m = pattern.fullmatch(p.name)
        if m:
            found.append((int(m.group(1) or 1), p))
    return sorted(found)


def _custom_xml(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            return z.read("docProps/custom.xml").decode("utf-8")
    except (KeyError, OSError, zipfile.BadZipFile, UnicodeDecodeError):
        return ""


def _property(xml: str, name: str) -> str | None:
    m = re.search(rf'name="{name}"[^>]*>\s*<vt:lpwstr>([^<]*)</vt:lpwstr>', xml)
    return m.group(1) if m else None


def stored_digest(path: Path) -> str | None:
    """The content hash a report carries in its custom document properties."""
    value = _property(_custom_xml(path), "sheetdesk_hash")
    return value if value and re.fullmatch(r"[0-9a-f]{64}", value) else None


def stored_written(path: Path) -> datetime | None:
    """When sheetdesk wrote the report (desk clock), as the report itself says: survives copying the
    archive, which resets file times."""
    value = _property(_custom_xml(path), "sheetdesk_written")
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def refuse_unsafe(chosen: list[Report]) -> tuple[list[Report], list[tuple[str, str]]]:
    """The reports whose ID may name a file in the archive, and a (zh, en) line for each other one."""
    ok, refused = [], []
    for report in chosen:
        problem = file_name_problem(report.id)
        if problem is None:
            ok.append(report)
        else:
            refused.append(problem)
    return ok, refused


def archive_report(root: Path, report: Report, write, written: datetime | None = None, _attempt: int = 0) -> Archived:
    """Write ``report`` unless its latest archived version has the same content; never overwrite.

    ``written`` (the run's now, desk clock) is stamped into the file for the archive index."""
    problem = file_name_problem(report.id)
    if problem is not None:
        raise InputError(*problem)
    folder = _folder(root, report)
    digest = report.digest()
    versions = _versions(folder, report.id, report.external)
    if versions:
        latest_version, latest = versions[-1]
        if stored_digest(latest) == digest:
            return Archived(report.id, latest_version, latest, digest, report.external, False)
        version = latest_version + 1
    else:
        version = 1
    stem = f"{report.id}.external" if report.external else report.id
    target = folder / (f"{stem}.xlsx" if version == 1 else f"{stem}.v{version}.xlsx")
    if not target.resolve().is_relative_to(Path(root).resolve()):  # a symlinked month folder, say
        raise InputError(f"报告路径 {target} 不在归档目录 {root} 之内，未写入",
                         f"report path {target} is outside the archive {root}; nothing written")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        staged = Path(tmp) / target.name
        write(report, staged, digest, written)
        if target.exists():  # a concurrent run got there first: keep both
            if _attempt >= 20:
                raise SheetdeskError(f"{target} 已存在且无法识别为归档版本，未覆盖",
                                     f"{target} exists but is not recognised as an archived version; not overwritten")
            return archive_report(root, report, write, written, _attempt + 1)
        staged.replace(target)
    return Archived(report.id, version, target, digest, report.external, True)


def index_rows(root: Path, timezone: str = DEFAULT_TIMEZONE) -> list[tuple[str, int, str, str, bool, datetime]]:
    """(ID, version, relative path, hash, external, written) of every report in the archive; written
    is the stamp the report carries, else its file time, on the desk's clock."""
    rows = []
    if not root.is_dir():
        return rows
    pattern = re.compile(r"(.+?)(\.external)?(?:\.v(\d+))?\.xlsx$")
    for path in sorted(root.glob("*/*/*.xlsx")):
        m = pattern.fullmatch(path.name)
        if not m:
            continue
        written = stored_written(path) or desk_time(path.stat().st_mtime, timezone)
        rows.append((m.group(1), int(m.group(3) or 1), path.relative_to(root).as_posix(), stored_digest(path) or "",
                     bool(m.group(2)), written))
    return sorted(rows, key=lambda r: (r[0], r[4], r[1]))


def soffice() -> str:
    """The LibreOffice executable, or PdfUnavailable saying how to install it."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise PdfUnavailable(
            "--pdf 需要 LibreOffice：请安装 libreoffice-calc 和中文字体 fonts-wqy-microhei（apt-get install -y "
            "libreoffice-calc fonts-wqy-microhei）后重试",
            "--pdf needs LibreOffice: install libreoffice-calc and the CJK font fonts-wqy-microhei "
            "(apt-get install -y libreoffice-calc fonts-wqy-microhei) and retry")
    return exe


def pdf_of(xlsx: Path) -> Path:
    """Convert with LibreOffice headless (a private profile, so a running LibreOffice is not disturbed)."""
    exe = soffice()
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                               "--outdir", str(xlsx.parent), str(xlsx)], capture_output=True, timeout=300)
    pdf = xlsx.with_suffix(".pdf")
    if proc.returncode != 0 or not pdf.exists():
        raise SheetdeskError(f"LibreOffice 未能生成 PDF：{proc.stderr.decode(errors='replace')[:200]}",
                             f"LibreOffice did not produce a PDF: {proc.stderr.decode(errors='replace')[:200]}")
    return pdf


def ambiguous_ids(ids: list[str], conflicts: dict[str, list[int]]) -> tuple[str, str] | None:
    """(zh, en) refusing a report on IDs several register rows hold, or None."""
    named = [i for i in dict.fromkeys(ids) if i in conflicts]
    if not named:
        return None
    zh = "；".join(f"编号“{i}”在登记表中有多行（第{row_list(conflicts[i])[0]}行）" for i in named)
    en = "; ".join(f"ID '{i}' is on several Register rows ({row_list(conflicts[i])[1]})" for i in named)
    return (f"{zh}，无法确定报告属于哪一位客户：请先在登记表改正重复的编号",
            f"{en}: a report cannot tell which customer it is for; correct the duplicate ID in the Register first")


def select(reports: dict[str, Report], ids: list[str], all_: bool, root: Path,
           conflicts: dict[str, list[int]] | None = None, waiting: dict[str, tuple[str, str]] | None = None
           ) -> list[Report]:
    """``waiting``: the major tickets awaiting the manager's second review (awaiting_second_review)."""
    if ids and all_:
        raise InputError("请指定反馈编号或 --all 之一", "give IDs or --all, not both")
    if not ids and not all_:
        raise InputError("请指定要出报告的反馈编号，或用 --all 处理所有已审核且未归档的工单",
                         "name the IDs to report on, or use --all for every reviewed ticket without a report")
    if all_:  # every reviewed ticket that has no report yet; re-issuing a changed one means naming it
        return [r for _, r in sorted(reports.items()) if not _versions(_folder(root, r), r.id, False)]
    refused = ambiguous_ids(ids, conflicts or {})
    if refused:
        raise InputError(*refused)
    waiting = waiting or {}
    held = [i for i in dict.fromkeys(ids) if i in waiting]
    if held:
        zh = "；".join(f"{i}（{waiting[i][0]}）" for i in held)
        en = "; ".join(f"{i} ({waiting[i][1]})" for i in held)
        raise InputError(f"重大问题需售后服务经理复核后才能归档，请在处理结果填写复核人和复核日期：{zh}",
                         f"a major problem is archived only after the manager's second review; fill Second "
                         f"reviewer and Second reviewed on in Results for: {en}")
    missing = [i for i in ids if i not in reports]
    if missing:
        raise InputError(f"以下编号没有已审核的处理结果（需填写审核人和审核日期）：{'、'.join(missing)}",
                         f"no reviewed result (Reviewer and Reviewed on filled) for: {', '.join(missing)}")
    return [reports[i] for i in ids]

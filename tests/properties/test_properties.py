"""Property-based: whatever people type, refresh never crashes, never changes a typed cell, never drops a
row or a sheet, leaves a workbook that opens, and a second refresh changes nothing."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.styles import PatternFill

from sheetdesk.cli import main
from sheetdesk.schema import REGISTER, normalise_header
from sheetdesk.workbook.template import build_template
from sheetdesk.workbook.verify import _norm

NOW = "2026-11-23 09:00"
#: columns sheetdesk may fill when blank (IDs and routing); everything typed elsewhere must stay
FILLABLE = {"id", "category", "department", "owner", "collaborators", "priority"}
OWNED = {c.key for c in REGISTER.columns if c.owned}

#: what an attacker (or an unlucky clerk) types: formula-like text, full-width digits and ＠, path-like IDs
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "=cmd|' /C calc'!A0", '=WEBSERVICE("http://evil.example")',
           "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)", "\t=1+1", "１３９００００２２２２", "139.0000.2222",
           "(010)12345678", "0086 137 0000 1111", "wang.nana＠example.com", "ZHANG WEI", "../victim/newfile",
           "..\\..\\x", "CON", "NUL.txt", "COM1", "a:b*c?", "202611-001/../../x"]
moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 3, 1))
text_dates = moments.map(lambda d: d.strftime(
    ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M", "%Y.%m.%d", "%Y%m%d", "%d/%m/%Y", "%m-%d %H:%M"][d.second % 7]))
junk = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=3).map(lambda s: s + "\t\n"),
    st.sampled_from(["上周三", "—", "#N/A", "=1+1", "=NA()", "TRUE", "0", "13812345678", "1381234",
                     "wang@example.com", "P0", "紧急", "超急", "传真", "电话", "产品质量类", "售后类", "202611-001",
                     "202611-1", "11-5", "x" * 5000]),
    st.sampled_from(HOSTILE),
    st.integers(min_value=-10, max_value=10 ** 12),
    # any number may land in a date column, where it is a serial: keep it inside Excel's calendar
    st.floats(min_value=-1e6, max_value=2.9e6),
    st.booleans(), st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)),
)
cell = st.one_of(st.none(), moments, text_dates, junk)
row = st.fixed_dictionaries({}, optional={c.key: cell for c in REGISTER.columns if not c.owned})


def snapshot(path):
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        # values as the file stores them (dates as serials); a whitespace-only cell is blank — sheetdesk
        # may number or route it, as the README says
        out[ws.title] = {(c.row, c.column): _norm(c.value) for r in ws.iter_rows() for c in r
                         if c.value is not None and not (isinstance(c.value, str) and not c.value.strip())}
    return wb.sheetnames, out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=1, max_size=12), merged=st.booleans(), hidden=st.booleans(),
       formatted_tail=st.booleans(), extra_sheet=st.booleans())
def test_refresh_never_loses_what_people_typed(tmp_path_factory, rows, merged, hidden, formatted_tail, extra_sheet):
    check_refresh(tmp_path_factory.mktemp("prop"), rows, merged, hidden, formatted_tail, extra_sheet)


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=1, max_size=12), merged=st.booleans(), hidden=st.booleans(),
       formatted_tail=st.booleans(), extra_sheet=st.booleans())
def test_each_engine_never_loses_what_people_typed(tmp_path_factory, engine, rows, merged, hidden, formatted_tail,
                                                   extra_sheet):
    tmp = tmp_path_factory.mktemp(engine)
    (tmp / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    check_refresh(tmp, rows, merged, hidden, formatted_tail, extra_sheet)


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_a_merged_total_row_below_the_tickets_converges(tmp_path, engine):
    """The smallest example hypothesis found on the openpyxl engine: one empty ticket row, a merged 合计 below."""
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    check_refresh(tmp_path, [{}], merged=True, hidden=False, formatted_tail=False, extra_sheet=False)


def check_refresh(tmp, rows, merged, hidden, formatted_tail, extra_sheet):
    wb = build_template("zh")
    ws = wb["登记表"]
    header = {normalise_header(c.value): c.column for c in ws[1] if c.value}
    cols = {c.key: header[normalise_header(c.zh)] for c in REGISTER.columns}
    extra_col = ws.max_column + 1
    ws.cell(1, extra_col, "我的备注")
    for i, values in enumerate(rows, 2):
        for key, value in values.items():
            c = ws.cell(i, cols[key], value)
            if value in HOSTILE:
                c.data_type = "s"  # typed as text (a leading apostrophe in Excel), not as a formula
        ws.cell(i, extra_col, f"备注{i}")
    if merged:
        ws.merge_cells(start_row=len(rows) + 3, start_column=1, end_row=len(rows) + 3, end_column=4)
        ws.cell(len(rows) + 3, 1, "合计")
    if hidden:
        ws.row_dimensions[2].hidden = True
        ws.column_dimensions["H"].hidden = True
    if formatted_tail:
        grey = PatternFill("solid", fgColor="FFEEEEEE")
        for r in range(len(rows) + 5, len(rows) + 300):
            ws.cell(r, 2).fill = grey
    if extra_sheet:
        wb.create_sheet("周报草稿")["A1"] = "本周重点"
    path = tmp / "desk.xlsx"
    wb.save(path)
    names_before, before = snapshot(path)

    runner = CliRunner()
    result = runner.invoke(main, ["refresh", str(path), "--now", NOW], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "内部错误" not in result.output

    names_after, after = snapshot(path)
    assert names_after[:len(names_before)] == names_before
    register_before, register_after = before["登记表"], after["登记表"]
    owned_cols = {cols[k] for k in OWNED}
    fillable_cols = {cols[k] for k in FILLABLE}
    for (r, c), value in register_before.items():
        if c in owned_cols:
            continue
        assert register_after.get((r, c)) == value, (r, c, value)
    for (r, c), value in register_after.items():
        if (r, c) not in register_before and c not in owned_cols:
            assert c in fillable_cols and r > 1, (r, c, value)
    for name in names_before:
        if name in ("登记表", "跟踪看板", "回访计划", "_sheetdesk"):
            continue
        kept = {k: v for k, v in before[name].items()}
        changed = {k: v for k, v in kept.items() if after[name].get(k) != v}
        # only 校验 cells of the rule sheets may change
        assert all(k[0] > 1 for k in changed), (name, changed)
    rows_with_data = {r for (r, c) in register_before if r > 1}
    assert rows_with_data <= {r for (r, c) in register_after}
    assert generated_formulas(path) == []  # what the tracker and follow-ups copy stays text

    again = runner.invoke(main, ["refresh", str(path), "--now", NOW], catch_exceptions=False)
    assert again.exit_code == 0 and "无需修改" in again.output, again.output


def generated_formulas(path) -> list[str]:
    """Formulas in the sheets sheetdesk generates (it writes none there: whatever it copies is text)."""
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        found = []
        for name in ("跟踪看板", "回访计划"):
            sheet = re.search(r'<sheet [^>]*name="%s"[^>]*r:id="([^"]+)"' % name, workbook)
            if sheet is None:
                continue
            target = re.search(r'Id="%s"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="%s"'
                               % (sheet.group(1), sheet.group(1)), rels)
            member = "xl/" + (target.group(1) or target.group(2)).lstrip("/").removeprefix("xl/")
            found += re.findall(r"<f\b[^>]*>[^<]*</f>", z.read(member).decode())
        return found


#: a report-worthy ticket: hostile ID, customer, contact and free text, reviewed
report_row = st.fixed_dictionaries({
    "id": st.one_of(st.sampled_from(["202611-001", "202611-002", "202611-017"]), st.sampled_from(HOSTILE), junk),
    "customer": st.one_of(st.sampled_from(["Zhang Wei", "王娜娜", "=cmd|' /C calc'!A0"]), junk),
    "contact": st.sampled_from(["１３９００００２２２２", "139.0000.2222", "(010)12345678", "0086 137 0000 1111",
                                "wang.nana＠example.com", "13812345678 / wang@example.com"]),
    "description": st.one_of(st.sampled_from(HOSTILE), junk),
    "result": st.one_of(st.sampled_from(HOSTILE), junk),
})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(rows=st.lists(report_row, min_size=1, max_size=5))
def test_reports_never_escape_the_archive_run_formulas_or_leak_contacts(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("report")
    wb = build_template("zh")
    reg, res = wb["登记表"], wb["处理结果"]
    rcol = {normalise_header(c.value): c.column for c in reg[1] if c.value}
    scol = {normalise_header(c.value): c.column for c in res[1] if c.value}

    def put(ws, r, col, value):
        c = ws.cell(r, col, value)
        if isinstance(value, str) and value.startswith("="):
            c.data_type = "s"

    for i, values in enumerate(rows, 2):
        typed_id = values["id"] if isinstance(values["id"], str) else str(values["id"])
        for key, header in (("customer", "客户名称"), ("contact", "联系方式"), ("description", "问题描述")):
            put(reg, i, rcol[header], values[key])
        put(reg, i, rcol["反馈编号"], typed_id)
        reg.cell(i, rcol["反馈时间"], datetime(2026, 11, 2, 10))
        reg.cell(i, rcol["反馈渠道"], "电话")
        put(res, i, scol["反馈编号"], typed_id)
        put(res, i, scol["处理结果"], values["result"])
        res.cell(i, scol["审核人"], "赵主管")
        res.cell(i, scol["审核日期"], datetime(2026, 11, 6))
    path = tmp / "desk.xlsx"
    wb.save(path)
    before = {p for p in tmp.rglob("*")}

    result = CliRunner().invoke(main, ["report", str(path), "--all", "--external", "--now", NOW],
                                catch_exceptions=False)

    assert result.exit_code == 0 and "内部错误" not in result.output, result.output
    archive = (tmp / "archive").resolve()
    for p in set(tmp.rglob("*")) - before:
        assert p.resolve().is_relative_to(archive), p
    for report in archive.rglob("*.xlsx"):
        with zipfile.ZipFile(report) as z:
            parts = {n: z.read(n).decode("utf-8", errors="replace") for n in z.namelist()}
        assert not any(re.search(r"<f\b", xml) for xml in parts.values()), report
        if report.name.endswith(".external.xlsx"):
            flat = unicodedata.normalize("NFKC", "".join(parts.values())).casefold()
            for secret in ("00002222", "12345678", "00001111", "wang.nana", "wang@"):
                assert secret not in re.sub(r"[\s\-.()]", "", flat), (report, secret)

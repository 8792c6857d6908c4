"""Property-based: whatever people type, refresh never crashes, never changes a typed cell, never drops a
row or a sheet, leaves a workbook that opens, and a second refresh changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

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

moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 3, 1))
text_dates = moments.map(lambda d: d.strftime(
    ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M", "%Y.%m.%d", "%Y%m%d", "%d/%m/%Y", "%m-%d %H:%M"][d.second % 7]))
junk = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=3).map(lambda s: s + "\t\n"),
    st.sampled_from(["上周三", "—", "#N/A", "=1+1", "=NA()", "TRUE", "0", "13812345678", "1381234",
                     "wang@example.com", "P0", "紧急", "超急", "抖音", "电话", "产品质量类", "售后类", "202611-001",
                     "202611-1", "11-5", "x" * 5000]),
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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=1, max_size=12), merged=st.booleans(), hidden=st.booleans(),
       formatted_tail=st.booleans(), extra_sheet=st.booleans())
def test_the_patch_engine_never_loses_what_people_typed(tmp_path_factory, rows, merged, hidden, formatted_tail,
                                                         extra_sheet):
    tmp = tmp_path_factory.mktemp("patch")
    (tmp / "sheetdesk.toml").write_text('[desk]\nengine = "patch"\n', encoding="utf-8")
    check_refresh(tmp, rows, merged, hidden, formatted_tail, extra_sheet)


def check_refresh(tmp, rows, merged, hidden, formatted_tail, extra_sheet):
    wb = build_template("zh")
    ws = wb["登记表"]
    header = {normalise_header(c.value): c.column for c in ws[1] if c.value}
    cols = {c.key: header[normalise_header(c.zh)] for c in REGISTER.columns}
    extra_col = ws.max_column + 1
    ws.cell(1, extra_col, "我的备注")
    for i, values in enumerate(rows, 2):
        for key, value in values.items():
            ws.cell(i, cols[key], value)
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

    again = runner.invoke(main, ["refresh", str(path), "--now", NOW], catch_exceptions=False)
    assert again.exit_code == 0 and "无需修改" in again.output, again.output

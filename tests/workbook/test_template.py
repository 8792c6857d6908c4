"""The desk template builder and the demo data, checked on the saved file (what Excel opens).

Runs without conftest (``--noconftest``): everything it needs is built here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from sheetdesk.app.sampledata import fill_demo
from sheetdesk.app.templates import template_file
from sheetdesk.rules.escalation import read_rules
from sheetdesk.rules.records import Row, Table
from sheetdesk.rules.routing import read_matrix
from sheetdesk.rules.sla import read_sla, split_list
from sheetdesk.schema import (
    COUNTER,
    DEFAULT_CHANNELS,
    DEFAULT_EMOTIONS,
    DEFAULT_TIERS,
    EN_LIST_VALUES,
    ESCALATION,
    LISTS,
    MATRIX,
    PROGRESS,
    REGISTER,
    RESULTS,
    SATISFACTION,
    SHEETS,
    SLA,
    STEPS,
    TRACKER,
    Sheet,
    normalise_header,
)
from sheetdesk.workbook.template import PRESETS, build_template, write_template

CASES = [(lang, preset) for lang in ("zh", "en") for preset in PRESETS]
TYPED = [s for s in SHEETS if s.columns and s.key != COUNTER.key]
#: (sheet, column key) -> the defined name its dropdown uses
DROPDOWNS = {
    (REGISTER, "channel"): "sd_channels", (REGISTER, "tier"): "sd_tiers", (REGISTER, "emotion"): "sd_emotions",
    (REGISTER, "category"): "sd_categories", (REGISTER, "priority"): "sd_priorities",
    (PROGRESS, "step"): "sd_steps", (RESULTS, "satisfaction"): "sd_satisfaction",
}
#: defined name -> (sheet, column key) of the list it names
NAMED_LISTS = {
    "sd_channels": (LISTS, "channel"), "sd_tiers": (LISTS, "tier"), "sd_emotions": (LISTS, "emotion"),
    "sd_steps": (LISTS, "step"), "sd_satisfaction": (LISTS, "satisfaction"),
    "sd_categories": (MATRIX, "category"), "sd_priorities": (SLA, "priority"),
}


def letter(sheet: Sheet, key: str) -> str:
    return get_column_letter([c.key for c in sheet.columns].index(key) + 1)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(lang, preset) -> the template as reloaded from disk."""
    cache = {}

    def load(lang: str, preset: str):
        if (lang, preset) not in cache:
            path = tmp_path_factory.mktemp("tpl") / f"{lang}-{preset}.xlsx"
            write_template(path, lang=lang, preset=preset)
            cache[lang, preset] = openpyxl.load_workbook(path)
        return cache[lang, preset]

    return load


def table(ws, sheet: Sheet) -> Table:
    """The sheet as the domain reads it, without going through the workbook reader."""
    lookup = {normalise_header(c.value): c.column for c in ws[1] if c.value is not None}
    columns = {}
    for col in sheet.columns:
        for name in (col.zh, col.en):
            if normalise_header(name) in lookup:
                columns[col.key] = lookup[normalise_header(name)]
    rows = []
    for r in range(2, ws.max_row + 1):
        values = {k: ws.cell(r, c).value for k, c in columns.items()}
        if any(v is not None for v in values.values()):
            rows.append(Row(r, values))
    return Table(sheet, ws.title, 1, columns, rows)


def list_values(wb, name: str) -> list:
    (sheet_name, ref), = wb.defined_names[name].destinations
    return [c.value for (c,) in wb[sheet_name][ref.replace("$", "")] if c.value is not None]


# --- structure ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, preset", CASES)
def test_sheets_follow_the_schema_with_every_header(saved, lang, preset):
    wb = saved(lang, preset)
    assert wb.sheetnames == [s.name(lang) for s in SHEETS]
    for sheet in TYPED:
        ws = wb[sheet.name(lang)]
        assert [c.value for c in ws[1]] == [c.header(lang) for c in sheet.columns], sheet.key
    counter = wb[COUNTER.name(lang)]
    assert [c.value for c in counter[1]] == [c.name(lang) for c in COUNTER.columns]
    assert counter.sheet_state == "hidden"
    assert all(wb[s.name(lang)].sheet_state == "visible" for s in SHEETS if s is not COUNTER)
    note = wb[TRACKER.name(lang)]["A1"].value
    assert note and ("重新生成" in note if lang == "zh" else "regenerates" in note)


@pytest.mark.parametrize("lang, preset", CASES)
def test_owned_headers_look_different_and_say_why(saved, lang, preset):
    wb = saved(lang, preset)
    for sheet in TYPED:
        ws = wb[sheet.name(lang)]
        for i, col in enumerate(sheet.columns, 1):
            cell = ws.cell(1, i)
            if col.owned:
                assert cell.fill.fgColor.rgb == "FFD9D9D9" and cell.font.i, (sheet.key, col.key)
                assert cell.comment is not None
                assert cell.comment.text.startswith("由 sheetdesk 填写" if lang == "zh" else "Filled by sheetdesk")
            else:
                assert cell.fill.fgColor.rgb == "FFDDEBF7" and cell.font.b and not cell.font.i, (sheet.key, col.key)
                assert cell.comment is None


@pytest.mark.parametrize("lang, preset", CASES)
def test_frozen_header_filters_widths_and_formats(saved, lang, preset):
    wb = saved(lang, preset)
    for sheet in TYPED:
        ws = wb[sheet.name(lang)]
        assert ws.freeze_panes == "A2", sheet.key
        assert ws.auto_filter.ref == f"A1:{get_column_letter(len(sheet.columns))}1", sheet.key
        for i, col in enumerate(sheet.columns, 1):
            assert ws.column_dimensions[get_column_letter(i)].width == col.width
            expected = {"datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd"}.get(col.kind)
            if expected:
                assert ws.cell(2, i).number_format == ws.cell(200, i).number_format == expected, (sheet.key, col.key)
    register = wb[REGISTER.name(lang)]
    assert register.column_dimensions[letter(REGISTER, "description")].width > \
        register.column_dimensions[letter(REGISTER, "priority")].width


def test_unknown_language_or_preset_is_refused():
    with pytest.raises(ValueError):
        build_template("fr")
    with pytest.raises(ValueError):
        build_template("zh", "p0p1p2p3")
    with pytest.raises(ValueError):
        write_template("never-written.xlsx", preset="nope")


# --- dropdowns -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, preset", CASES)
def test_defined_names_point_at_the_lists(saved, lang, preset):
    wb = saved(lang, preset)
    for name, (sheet, key) in NAMED_LISTS.items():
        assert name in wb.defined_names, name
        (sheet_name, ref), = wb.defined_names[name].destinations
        col = letter(sheet, key)
        assert sheet_name == sheet.name(lang) and ref == f"${col}$2:${col}$50", name
    zh = lang == "zh"
    assert list_values(wb, "sd_channels") == list(DEFAULT_CHANNELS if zh else EN_LIST_VALUES["channel"])
    assert list_values(wb, "sd_tiers") == list(DEFAULT_TIERS if zh else EN_LIST_VALUES["tier"])
    assert list_values(wb, "sd_emotions") == list(DEFAULT_EMOTIONS if zh else EN_LIST_VALUES["emotion"])
    assert list_values(wb, "sd_steps") == [s[1] if zh else s[2] for s in STEPS]
    assert list_values(wb, "sd_satisfaction") == [s[1] if zh else s[2] for s in SATISFACTION]
    assert len(list_values(wb, "sd_categories")) == 6
    assert len(list_values(wb, "sd_priorities")) == 3


@pytest.mark.parametrize("lang, preset", CASES)
def test_dropdowns_use_the_names_and_only_warn(saved, lang, preset):
    wb = saved(lang, preset)
    for (sheet, key), name in DROPDOWNS.items():
        ws = wb[sheet.name(lang)]
        col = letter(sheet, key)
        found = [dv for dv in ws.data_validations.dataValidation if dv.formula1 == f"={name}"]
        assert len(found) == 1, (sheet.key, key)
        dv = found[0]
        assert dv.type == "list" and dv.allow_blank and not dv.showErrorMessage
        assert str(dv.sqref) == f"{col}2:{col}5000"


@pytest.mark.parametrize("lang, preset", CASES)
def test_a_save_and_reload_keeps_names_and_validations(saved, lang, preset, tmp_path):
    again = tmp_path / "again.xlsx"
    saved(lang, preset).save(again)
    wb = openpyxl.load_workbook(again)
    assert set(NAMED_LISTS) <= set(wb.defined_names)
    formulas = {(ws.title, dv.formula1) for ws in wb.worksheets for dv in ws.data_validations.dataValidation}
    assert {(sheet.name(lang), f"={name}") for (sheet, _), name in DROPDOWNS.items()} <= formulas


# --- defaults --------------------------------------------------------------------------------------

def test_default_sla_levels():
    def levels(lang, preset):
        ws = build_template(lang, preset)[SLA.name(lang)]
        return [[ws.cell(r, c).value for c in range(1, 8)] for r in (2, 3, 4)]

    # every level has the stages the seeds name: seed 000's response and resolution, P0's 2-hour start;
    # the solution times of seeds 003/004; the 进展更新 cadence (seed 003: 2 working days, the top level daily)
    zh = levels("zh", "p0p1p2")
    assert [row[0] for row in zh] == ["P0", "P1", "P2"]
    assert zh[0] == ["P0", "紧急,一级", "24小时", "2小时", "24小时", "48小时", "1个工作日"]
    assert zh[1][1] == "重要,二级,高" and zh[2][1] == "一般,三级,常规,中,低"
    assert zh[1][2:] == ["48小时", None, "48小时", "7个工作日", "2个工作日"]
    assert zh[2][2:] == ["7个工作日", None, None, "15个工作日", "2个工作日"]
    assert levels("en", "p0p1p2")[0][2:] == ["24h", "2h", "24h", "48h", "1wd"]
    four = levels("zh", "four-stage")
    assert [row[0] for row in four] == ["一级", "二级", "三级"]
    assert four[0][2:] == ["30分钟", "1小时", "4小时", "24小时", "1个工作日"]
    assert four[2][2:] == ["4小时", "6小时", "24小时", "5个工作日", "2个工作日"]
    assert levels("en", "four-stage")[0][2:] == ["30m", "1h", "4h", "24h", "1wd"]


@pytest.mark.parametrize("lang, preset", CASES)
def test_defaults_read_back_without_problems(saved, lang, preset):
    wb = saved(lang, preset)
    sla, sla_problems = read_sla(table(wb[SLA.name(lang)], SLA))
    matrix, matrix_problems = read_matrix(table(wb[MATRIX.name(lang)], MATRIX), sla)
    rules, rule_problems = read_rules(table(wb[ESCALATION.name(lang)], ESCALATION), sla)
    assert sla_problems == matrix_problems == rule_problems == []
    assert len(sla.levels) == 3 and all(level.stages["closed"] for level in sla.levels)
    assert all(sla.resolve(e.priority) for e in matrix.entries)
    by_kind = {r.kind: r for r in rules}
    assert by_kind["keyword"].enabled and by_kind["keyword"].level.rank == 0
    assert by_kind["batch"].enabled and by_kind["batch"].level.rank == 1
    assert (by_kind["batch"].count, by_kind["batch"].days) == (5, 7)
    assert not by_kind["vip"].enabled
    if lang == "zh":
        assert sla.resolve("紧急").name == sla.levels[0].name
        assert sla.resolve("高").rank == 1  # 高 is not 紧急
        assert {"烫伤", "过敏", "起火", "爆炸", "触电", "人身", "安全隐患"} <= set(by_kind["keyword"].words)
        assert {"欺诈", "骗子", "315", "媒体", "曝光", "12315"} <= set(by_kind["publicity"].words)
        assert "财产损失" in by_kind["property"].words and by_kind["property"].level.rank == 0
        assert by_kind["repeat"].days == 30 and by_kind["repeat"].level.rank == 1
        assert by_kind["emotion"].emotions == ("愤怒",) and "第N次" in by_kind["emotion"].words
        assert by_kind["batch"].key == "model-or-keyword"
        priorities = {e.category: e.priority for e in matrix.entries}
        if preset == "four-stage":
            assert priorities["产品质量类"] == priorities["技术支持类"] == "二级"
            # seed 002: 物流延迟, 操作咨询 and 服务体验 are 二级; suggestions and the rest 三级
            assert priorities["物流类"] == priorities["功能使用类"] == priorities["服务体验类"] == "二级"
            assert priorities["其他类"] == "三级"
            assert sla.resolve("高").name == "二级" and sla.resolve("中").name == "三级"
        else:
            assert priorities["产品质量类"] == "P1" and priorities["功能使用类"] == "P2"


def test_english_injury_keywords_do_not_hide_in_ordinary_words():
    ws = build_template("en")[ESCALATION.name("en")]
    words = split_list(ws.cell(2, 2).value)
    assert "burn" in words
    harmless = "please fix it immediately, the firmware update via express delivery lost water pressure"
    assert [w for w in words if w in harmless] == []


@pytest.mark.parametrize("lang, preset", CASES)
def test_checked_in_files_are_a_fresh_build(lang, preset):
    shipped = openpyxl.load_workbook(template_file(lang, preset))
    fresh = build_template(lang, preset)
    assert shipped.sheetnames == fresh.sheetnames
    for name in fresh.sheetnames:
        assert list(shipped[name].values) == list(fresh[name].values), f"{name}: run workbook_templates/build.py"
    assert set(shipped.defined_names) == set(fresh.defined_names)


def test_written_templates_are_reproducible(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_template(a, lang="en", preset="four-stage")
    write_template(b, lang="en", preset="four-stage")
    assert a.read_bytes() == b.read_bytes()
    props = openpyxl.load_workbook(a).properties
    assert props.creator == "sheetdesk"
    assert props.created == props.modified == datetime(2026, 1, 1)


# --- demo data ---------------------------------------------------------------------------------------

def demo(lang: str = "zh", seed: int = 7):
    wb = build_template(lang)
    fill_demo(wb, lang=lang, seed=seed)
    return wb


def records(wb, sheet: Sheet, lang: str) -> list[dict]:
    ws = wb[sheet.name(lang)]
    out = []
    for r in range(2, ws.max_row + 1):
        values = {c.key: ws.cell(r, i).value for i, c in enumerate(sheet.columns, 1)}
        if any(v is not None for v in values.values()):
            out.append(values)
    return out


def all_values(wb) -> dict:
    return {ws.title: list(ws.values) for ws in wb.worksheets}


def test_demo_is_deterministic():
    assert all_values(demo("zh")) == all_values(demo("zh"))
    assert all_values(demo("en")) == all_values(demo("en"))
    assert all_values(demo("zh", seed=8)) != all_values(demo("zh"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_holds_the_mistakes_it_is_meant_to_show(lang):
    zh = lang == "zh"
    wb = demo(lang)
    rows = records(wb, REGISTER, lang)
    today = date(2026, 11, 23)
    assert 45 <= len(rows) <= 60
    received = [r["received"] for r in rows]
    real = [t for t in received if isinstance(t, datetime)]
    assert all(datetime(2026, 9, 25) <= t <= datetime(2026, 11, 23, 9) for t in real if t.date() <= today)
    texts = [t for t in received if isinstance(t, str)]
    assert any(("年" in t and "日" in t) if zh else "-" in t for t in texts)
    assert any("/" in t for t in texts)
    assert ("上周三" if zh else "last Wednesday") in texts
    assert any(isinstance(t, datetime) and t.date() == today + timedelta(days=2) for t in received)
    assert any(r["customer"] is None and r["description"] for r in rows)
    assert ("传真" if zh else "Fax") in [r["channel"] for r in rows]
    contacts = [r["contact"] for r in rows]
    assert "1381234" in contacts and any(isinstance(c, int) for c in contacts)
    ids = [r["id"] for r in rows if r["id"]]
    assert len(ids) - len(set(ids)) == 1
    assert 0 < len(set(ids)) < len(rows) - 5  # most new rows are left for refresh to number
    assert ("售后类" if zh else "After-sales") in [r["category"] for r in rows]
    assert ("紧急" if zh else "urgent") in [r["priority"] for r in rows]
    assert any(("烫伤" if zh else "burn") in r["description"] for r in rows)
    # a batch: five or more of one product and description inside seven days, none of them spoiled
    groups: dict = {}
    for r in rows:
        if isinstance(r["received"], datetime) and r["received"].date() <= today and r["customer"] \
                and r["category"] is None:
            groups.setdefault((r["product"], r["description"]), []).append(r["received"])
    assert any(sum(1 for t in times if first <= t < first + timedelta(days=7)) >= 5
               for times in groups.values() for first in times)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_log_and_results_reference_registered_tickets(lang):
    wb = demo(lang)
    ids = {r["id"] for r in records(wb, REGISTER, lang) if r["id"]}
    log = records(wb, PROGRESS, lang)
    assert log and {e["id"] for e in log} <= ids
    assert all(isinstance(e["time"], datetime) and e["time"] < datetime(2026, 11, 23, 9) for e in log)
    names = {key: (zh if lang == "zh" else en) for key, zh, en in STEPS}
    assert {names[k] for k in ("accepted", "first_response", "tech_engaged", "solution", "closed")} <= \
        {e["step"] for e in log}
    results = records(wb, RESULTS, lang)
    assert results and {r["id"] for r in results} <= ids
    assert ("不满意" if lang == "zh" else "Unsatisfied") in [r["satisfaction"] for r in results]

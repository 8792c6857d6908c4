"""The desk templates: sheets of the contract, styles, dropdowns through defined names, defaults that read back clean."""

from __future__ import annotations

import openpyxl
import pytest

from sheetdesk.app import desk
from sheetdesk.app.templates import template_file
from sheetdesk.schema import SHEETS, SHEETS_BY_KEY
from sheetdesk.workbook.template import PRESETS, build_template

CASES = [(lang, preset) for lang in ("zh", "en") for preset in PRESETS]


@pytest.mark.parametrize("lang, preset", CASES)
def test_checked_in_templates_match_the_builder(lang, preset, tmp_path):
    fresh = tmp_path / "fresh.xlsx"
    build_template(lang, preset).save(fresh)
    a, b = openpyxl.load_workbook(template_file(lang, preset)), openpyxl.load_workbook(fresh)
    assert a.sheetnames == b.sheetnames == [s.name(lang) for s in SHEETS]
    for name in a.sheetnames:
        assert list(a[name].values) == list(b[name].values), name


@pytest.mark.parametrize("lang, preset", CASES)
def test_template_structure_survives_a_save(lang, preset, tmp_path):
    path = tmp_path / "desk.xlsx"
    build_template(lang, preset).save(path)
    wb = openpyxl.load_workbook(path)
    register = wb[SHEETS_BY_KEY["register"].name(lang)]
    assert register.freeze_panes == "A2" and register.auto_filter.ref
    headers = {c.value.rstrip("*"): c for c in register[1]}
    people, owned = headers[SHEETS_BY_KEY["register"].column("customer").name(lang)], \
        headers[SHEETS_BY_KEY["register"].column("check").name(lang)]
    assert people.fill.fgColor.rgb == "FFDDEBF7" and owned.fill.fgColor.rgb == "FFD9D9D9"
    assert owned.comment is not None and people.comment is None
    names = set(wb.defined_names.keys())
    assert {"sd_channels", "sd_tiers", "sd_emotions", "sd_categories", "sd_priorities", "sd_steps",
            "sd_satisfaction"} <= names
    formulas = {dv.formula1 for dv in register.data_validations.dataValidation}
    assert {"=sd_channels", "=sd_categories", "=sd_priorities"} <= formulas
    assert all(not dv.showErrorMessage for dv in register.data_validations.dataValidation)
    assert wb[SHEETS_BY_KEY["counter"].name(lang)].sheet_state == "hidden"
    # the named list really is the list of channels
    dest = list(wb.defined_names["sd_channels"].destinations)[0]
    values = [c.value for (c,) in wb[dest[0]][dest[1].replace("$", "")] if c.value]
    assert values[0] == ("电话" if lang == "zh" else "Phone")


def test_default_sla_and_matrix(tmp_path):
    wb = build_template("zh", "p0p1p2")
    sla = wb["时效标准"]
    assert [sla.cell(r, 1).value for r in (2, 3, 4)] == ["P0", "P1", "P2"]
    assert [sla.cell(3, c).value for c in (3, 6)] == ["48小时", "7个工作日"]
    four = build_template("zh", "four-stage")["时效标准"]
    assert [four.cell(2, c).value for c in range(3, 7)] == ["30分钟", "1小时", "4小时", "24小时"]


@pytest.mark.parametrize("lang, preset", CASES)
def test_a_fresh_desk_validates_without_problems(lang, preset, tmp_path):
    path = tmp_path / "desk.xlsx"
    build_template(lang, preset).save(path)
    result = desk.run(path, write=False)
    assert [p for p in result.problems] == []

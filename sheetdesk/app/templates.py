"""New desks: ``init`` copies a checked-in template, ``demo`` adds sample data to one.

The files in ``workbook_templates/`` are the output of ``workbook_templates/build.py`` (itself
:mod:`sheetdesk.workbook.template`); when sheetdesk is installed without the repository beside it,
the same builder makes the workbook in memory, so both paths give the same desk.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from sheetdesk.errors import InputError

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "workbook_templates"
DEMO_TITLE = "sheetdesk demo"


def template_file(lang: str, preset: str) -> Path:
    suffix = "" if preset == "p0p1p2" else f"-{preset}"
    return TEMPLATE_DIR / f"desk-{lang}{suffix}.xlsx"


def create_desk(directory: Path, *, lang: str = "zh", preset: str = "p0p1p2") -> Path:
    target = Path(directory) / "desk.xlsx"
    if target.exists():
        raise InputError(f"{target} 已存在，不会覆盖；请换一个目录",
                         f"{target} already exists and will not be overwritten; choose another directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = template_file(lang, preset)
    if source.exists():
        shutil.copyfile(source, target)
    else:
        from sheetdesk.workbook.template import write_template  # openpyxl, loaded only when no template file ships

        write_template(target, lang=lang, preset=preset)
    return target


def create_demo(directory: Path, *, lang: str = "zh", today: date | None = None) -> Path:
    """A desk full of realistic tickets; an earlier demo in the same place is replaced."""
    import openpyxl  # the demo builds its desk with openpyxl; other commands never load it

    from sheetdesk.app.sampledata import fill_demo  # (openpyxl too)
    from sheetdesk.workbook.template import build_template  # (uses openpyxl)

    target = Path(directory) / "desk.xlsx"
    if target.exists():
        existing = openpyxl.load_workbook(target, read_only=True)
        is_demo = existing.properties.title == DEMO_TITLE
        existing.close()
        if not is_demo:
            raise InputError(f"{target} 已存在且不是示例台账，不会覆盖；请换一个目录",
                             f"{target} exists and is not a demo desk; it will not be overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    wb = build_template(lang)
    fill_demo(wb, lang=lang, **({"today": today} if today else {}))
    wb.properties.title = DEMO_TITLE
    wb.save(target)
    return target

"""Rebuild the checked-in desk templates: ``python workbook_templates/build.py``.

The files are outputs of :mod:`sheetdesk.workbook.template`; ``sheetdesk init`` copies them.
"""

from __future__ import annotations

from pathlib import Path

from sheetdesk.workbook.template import LANGS, PRESETS, write_template

HERE = Path(__file__).resolve().parent


def main() -> None:
    for lang in LANGS:
        for preset in PRESETS:
            suffix = "" if preset == "p0p1p2" else f"-{preset}"
            path = write_template(HERE / f"desk-{lang}{suffix}.xlsx", lang=lang, preset=preset)
            print(path.relative_to(HERE.parent))


if __name__ == "__main__":
    main()

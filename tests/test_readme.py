"""The README's settings example is a real, valid sheetdesk.toml."""

from pathlib import Path

from sheetdesk.settings import load_settings
from sheetdesk.workdays import WorkCalendar

README = Path(__file__).resolve().parent.parent / "README.md"


def test_settings_example_loads(tmp_path):
    text = README.read_text(encoding="utf-8")
    start = text.index("```toml") + len("```toml")
    (tmp_path / "sheetdesk.toml").write_text(text[start:text.index("```", start)], encoding="utf-8")
    settings = load_settings(tmp_path / "desk.xlsx")
    assert settings.engine == "patch" and settings.periodic_calls == [7, 30, 90]
    assert settings.pause_steps == frozenset({"waiting"})
    cal = WorkCalendar.from_settings(settings.calendar)
    assert not cal.is_provisional(__import__("datetime").date(2027, 3, 1))

"""The README and docs/ tell the truth: their settings example is a valid sheetdesk.toml, every
command and option they show exists, and every link points at a file (and heading) of the repository."""

import re
from datetime import date
from pathlib import Path

import click
import pytest

from sheetdesk.cli import main
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]


def _fenced_and_prose(text: str) -> tuple[list[str], str]:
    """(lines inside ``` fences, the text outside them)."""
    code, prose, fenced = [], [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced:
            code.append(line)
        else:
            prose.append(line)
    return code, "\n".join(prose)


def _snippets(text: str) -> list[str]:
    """Everything shown as code: fenced lines (comments cut) and inline code spans."""
    code, prose = _fenced_and_prose(text)
    snippets = [line.split(" #")[0] for line in code]
    snippets += [span.replace("\\|", "|") for span in re.findall(r"`([^`\n]+)`", prose)]
    return snippets


def _invocations(text: str) -> list[tuple[str, list[str]]]:
    """(command, options) of each ``sheetdesk COMMAND …`` shown as code."""
    found = []
    for snippet in _snippets(text):
        for part in re.split(r"&&|\|\||;", snippet):
            m = re.match(r"\s*(?:\w+=\S+\s+)*(?:python3? -m |\S*/)?sheetdesk\s+([a-z][\w-]*)(.*)", part)
            if m:
                rest = re.sub(r'"[^"]*"|\'[^\']*\'', "", m.group(2))  # quoted values may hold anything
                found.append((m.group(1), re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", rest)))
    return found


def _options(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        names.update(getattr(param, "opts", ()), getattr(param, "secondary_opts", ()))
    return {n for n in names if n.startswith("-")}


def test_settings_example_loads(tmp_path):
    text = README.read_text(encoding="utf-8")
    start = text.index("```toml") + len("```toml")
    (tmp_path / "sheetdesk.toml").write_text(text[start:text.index("```", start)], encoding="utf-8")
    settings = load_settings(tmp_path / "desk.xlsx")
    assert settings.engine == "patch" and settings.periodic_calls == [7, 30, 90]
    assert settings.pause_steps == frozenset({"waiting"})
    cal = WorkCalendar.from_settings(settings.calendar)
    assert not cal.is_provisional(date(2027, 3, 1))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_commands_and_options_shown_exist(doc):
    calls = _invocations(doc.read_text(encoding="utf-8"))
    wrong = [(name, opts) for name, opts in calls if name not in main.commands]
    wrong += [(name, sorted(set(opts) - _options(main.commands[name])))
              for name, opts in calls if name in main.commands and set(opts) - _options(main.commands[name])]
    assert not wrong, f"{doc.name} shows commands or options sheetdesk does not have: {wrong}"


def test_readme_shows_every_command_and_its_start_commands():
    text = README.read_text(encoding="utf-8")
    shown = {name for name, _ in _invocations(text)}
    assert set(main.commands) <= shown, f"commands missing from the README: {sorted(set(main.commands) - shown)}"
    code, _ = _fenced_and_prose(text)
    assert any(line.startswith("pip install . && sheetdesk demo") for line in code)
    assert any(line.startswith('pip install -e ".[test]" && python -m pytest') for line in code)


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(doc: Path) -> set[str]:
    _, prose = _fenced_and_prose(doc.read_text(encoding="utf-8"))
    return {_slug(m) for m in re.findall(r"^#+ (.+)$", prose, flags=re.M)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_links_point_into_the_repository(doc):
    _, prose = _fenced_and_prose(doc.read_text(encoding="utf-8"))
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"[a-z]+:", target):
            if doc == README:
                broken.append(target)              # the README stays inside the repository
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.is_relative_to(ROOT) or not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(target)
    assert not broken, f"{doc.name}: links that lead nowhere in the repository: {broken}"


def test_readme_is_for_users():
    text = README.read_text(encoding="utf-8")
    for internal in (r"\bissue \d", r"\bseeds?\b", r"PRODUCT\.md", r"\bsession\b", r"\.\./"):
        assert not re.search(internal, text, flags=re.I), internal
    assert "## Performance and the save engines" not in text and len(text.splitlines()) < 300

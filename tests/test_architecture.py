"""The tree states its architecture, and these checks keep it so.

Layers, lowest first: the contract (``schema``, ``errors``, ``settings``: what a desk and its
sheetdesk.toml are), ``rules`` (pure: records in, writes and problems out), ``workbook`` (reading and
saving files), ``app`` (the use cases) and ``cli`` (the commands). A module may import its own layer
and the layers below it, never one above: rules know nothing of files, the workbook layer nothing of
use cases, and nothing below the command line knows about click.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sheetdesk"
ORDER = {"contract": 0, "rules": 1, "workbook": 2, "app": 3, "cli": 4}
#: libraries that do input/output or belong to a use case: never in the pure rules
NOT_IN_RULES = {"openpyxl", "python_calamine", "xlsxwriter", "click", "rich", "sqlalchemy", "zipfile", "smtplib",
                "subprocess", "shutil", "tempfile"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if module == "sheetdesk.__main__":
        return "cli"
    return parts[1] if len(parts) > 1 and parts[1] in ORDER else "contract"


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) of every import in the file, nested ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [a.name for a in node.names]
            if node.module == "sheetdesk":
                out += [(node.lineno, f"sheetdesk.{n}", []) for n in names]
            else:
                out.append((node.lineno, node.module, names))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names]
    return out


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[_module(p) for p in MODULES])
def test_no_module_imports_a_layer_above_its_own(path):
    module = _module(path)
    wrong = [f"line {line}: {target}" for line, target, _ in _imports(path)
             if target.startswith("sheetdesk") and ORDER[_layer(target)] > ORDER[_layer(module)]]
    assert not wrong, f"{module} ({_layer(module)}) imports from a layer above: {wrong}"


@pytest.mark.parametrize("path", [p for p in MODULES if _layer(_module(p)) == "rules"],
                         ids=[_module(p) for p in MODULES if _layer(_module(p)) == "rules"])
def test_rules_do_no_io(path):
    used = {target.split(".")[0] for _, target, _ in _imports(path)}
    assert not used & NOT_IN_RULES, f"{_module(path)} imports {sorted(used & NOT_IN_RULES)}"


def test_no_private_name_crosses_a_module():
    crossing = []
    for path in MODULES:
        for line, target, names in _imports(path):
            if target.startswith("sheetdesk"):
                crossing += [f"{_module(path)}:{line} {target}.{n}" for n in names
                             if n.startswith("_") and not n.startswith("__")]
    assert not crossing, "private names used across modules (make them public or move them): " + ", ".join(crossing)


def _module_level_imports(path: Path) -> set[str]:
    """The sheetdesk modules a module imports when it is loaded (not those its functions import)."""
    out = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If):  # `if sys.version_info ...:` / `if TYPE_CHECKING:` blocks
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sheetdesk"):
            if node.module == "sheetdesk":
                out |= {f"sheetdesk.{a.name}" for a in node.names}
            else:
                out.add(node.module)
                out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("sheetdesk")}
    return out


def test_no_import_cycles():
    known = {_module(p): p for p in MODULES}
    graph = {m: {t for t in _module_level_imports(p) if t in known and t != m} for m, p in known.items()}
    cycles, state = [], {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t, stack + [t])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # a package's __init__ importing its own modules is how a package is assembled, not a cycle
    real = [c for c in cycles if not any(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(c, c[1:]))]
    assert not real, "import cycles: " + "; ".join(" → ".join(c) for c in real)

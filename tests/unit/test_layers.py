"""No import runs back up the layers: the order is the README's list (its architecture section),
and every import statement in ``tracker/`` is checked against it, those inside functions too
(a lazy import is still a dependency). Type-checking-only imports get no exemption: there are
none, and a dependency for the type checker is a dependency for the reader.

Each line of the list is a layer; a module belongs to the longest entry that names it or a
package above it. A module may import from its own entry and from entries on lines above its
own; entries on one line are siblings that do not import each other.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tracker"
README = ROOT / "README.md"
MARKER = "<!-- layers: read by tests/unit/test_layers.py -->"


def layers() -> list[list[str]]:
    """The README's list: one entry list per line, lowest first."""
    text = README.read_text()
    assert MARKER in text, f"the README lost its layer list ({MARKER})"
    block = re.search(r"```text\n(.*?)```", text[text.index(MARKER) :], re.DOTALL)
    assert block is not None, "no ```text block after the layer marker"
    return [[entry.strip() for entry in line.split(",")]
            for line in block.group(1).splitlines() if line.strip()]  # fmt: skip


@dataclass(frozen=True)
class Place:
    entry: str
    layer: int


def place_of(module: str, order: list[list[str]]) -> Place:
    """The longest entry naming ``module`` or a package that holds it."""
    found = [Place(entry, n) for n, line in enumerate(order) for entry in line
             if module == entry or module.startswith(entry + ".")]  # fmt: skip
    assert found, f"{module} is in no layer"
    return max(found, key=lambda place: len(place.entry))


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(module: str, path: Path) -> Iterator[str]:
    """Every ``tracker`` module ``path`` imports, at any depth of its code."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1],
                                 *([base] if base else [])])  # fmt: skip
            # ``from tracker.http import context`` imports tracker.http.context
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            if name == "tracker" or name.startswith("tracker."):
                yield _existing(name)


def _existing(name: str) -> str:
    """``name`` cut down to the module or package it names (not a class or function in it)."""
    while name != "tracker":
        relative = Path(*name.split("."))
        if (ROOT / relative).with_suffix(".py").exists() or (ROOT / relative).is_dir():
            return name
        name = name.rpartition(".")[0]
    return name


def violations() -> list[str]:
    order = layers()
    found = []
    for module, path in modules():
        mine = place_of(module, order)
        for imported in set(imports(module, path)):
            theirs = place_of(imported, order)
            upward = theirs.layer > mine.layer
            sibling = theirs.layer == mine.layer and theirs.entry != mine.entry
            if upward or sibling:
                kind = "a higher layer" if upward else "a sibling on its own layer"
                found.append(f"{module} imports {imported} ({theirs.entry}, {kind})")
    return sorted(found)


def test_no_module_imports_from_a_higher_layer_or_a_sibling() -> None:
    assert violations() == []


def test_every_module_has_a_layer_and_every_entry_a_module() -> None:
    order = layers()
    entries = [entry for line in order for entry in line]
    assert len(entries) == len(set(entries)), "an entry is listed twice"
    for module, _ in modules():
        place_of(module, order)  # fails on a module no entry names
    missing = [e for e in entries if _existing(e) != e]
    assert missing == [], missing


def test_the_client_imports_nothing_else_from_tracker() -> None:
    for module, path in modules():
        if module.startswith("tracker.client"):
            others = [
                name for name in imports(module, path) if not name.startswith("tracker.client")
            ]
            assert others == [], (module, others)


def test_the_check_catches_an_import_from_above(tmp_path: Path) -> None:
    """The walk sees imports in functions, relative ones, and ``from package import module``."""
    source = "def late():\n    from tracker.http import context\n    from ..ui import render\n"
    path = tmp_path / "module.py"
    path.write_text(source)
    found = set(imports("tracker.events.module", path))
    assert found == {"tracker.http", "tracker.http.context", "tracker.ui", "tracker.ui.render"}
    order = layers()
    low, high = place_of("tracker.events.module", order), place_of("tracker.http.context", order)
    assert high.layer > low.layer

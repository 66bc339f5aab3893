"""The package's shape: layers that import one way, import-free subpackage faces, and rules whose
code hash is their own script's."""

import ast
import re

import pytest
from conftest import REPO

from acomflow import provenance

# Each unit (a top-level module or subpackage of acomflow) may import units of its own layer or
# of layers before it, never after: the science moves up from array kernels to figures.
LAYERS = [
    {
        "__init__",
        "provenance",
        "logs",
        "settings",
        "config",
        "heap",
        "calibration",
        "kernels",
        "plots",
        "workflow",
    },
    {"store", "tables", "blockfile", "peaks"},
    {"scan", "readers", "simulate", "export", "epattern_csv", "crystal"},
    {"convert", "prepare"},
    {"register"},
    {"reconstruct", "maps", "acom"},
    {"metrics"},
    {"figures"},
]
LAYER = {unit: level for level, units in enumerate(LAYERS) for unit in units}


def unit(module: str) -> str:
    """The top-level module or subpackage of an acomflow module name ("__init__": the package
    itself, names it defines included)."""
    parts = module.split(".")
    return (
        parts[1] if len(parts) > 1 and provenance._module_file(".".join(parts[:2])) else "__init__"
    )


def module_name(path) -> str:
    relative = path.relative_to(provenance.PACKAGE_ROOT.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """{unit: units it imports} over every module of the package."""
    graph = {}
    for path in sorted(provenance.PACKAGE_ROOT.rglob("*.py")):
        name = module_name(path)
        imported = provenance._imported_modules(path, name)
        graph.setdefault(unit(name), set()).update(
            unit(other) for other in imported if unit(other) != unit(name)
        )
    return graph


def test_every_unit_has_a_layer():
    assert set(import_graph()) <= set(LAYER), (
        f"units without a layer: {set(import_graph()) - set(LAYER)}"
    )


def test_imports_go_down_the_layers_only():
    upward = {
        (importer, imported)
        for importer, units in import_graph().items()
        for imported in units
        if LAYER[imported] > LAYER[importer]
    }
    assert not upward, f"upward imports (importer, imported): {sorted(upward)}"


def test_the_unit_graph_has_no_cycle():
    graph, state = import_graph(), {}

    def visit(node, path):
        if state.get(node) == "open":
            raise AssertionError(f"import cycle: {' -> '.join(path + [node])}")
        if state.get(node) != "done":
            state[node] = "open"
            for other in sorted(graph.get(node, ())):
                visit(other, path + [node])
            state[node] = "done"

    for node in sorted(graph):
        visit(node, [])


@pytest.mark.parametrize(
    "path", sorted(provenance.PACKAGE_ROOT.glob("*/__init__.py")), ids=lambda p: p.parent.name
)
def test_subpackage_faces_import_nothing(path):
    body = ast.parse(path.read_text()).body
    assert not [node for node in body if isinstance(node, (ast.Import, ast.ImportFrom))]


def rules():
    """(rule name, its code param's script, its script) for every rule of the workflow."""
    found = []
    for path in sorted((REPO / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule )", path.read_text())[1:]:
            name = re.match(r"rule (\w+):", block).group(1)
            code = re.search(r'code=code_of\("(\w+)"\)', block)
            script = re.search(r'script:\s*"\.\./scripts/(\w+)\.py"', block)
            found.append((name, code and code.group(1), script and script.group(1)))
    return found


def test_each_rule_hashes_its_own_script():
    scripted = [(name, code, script) for name, code, script in rules() if script]
    assert len(scripted) >= 16
    assert [(name, code) for name, code, script in scripted if code != script] == []
    assert not re.search(
        r"code_hash\(|\"acomflow\.", "".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    )

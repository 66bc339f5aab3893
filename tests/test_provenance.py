"""Provenance: the code hash follows exactly the modules a step imports."""

import shutil

from acomflow import provenance
from acomflow.provenance import atomic_path, code_hash, module_closure


def names(modules):
    return {p.relative_to(provenance.PACKAGE_ROOT).as_posix() for p in module_closure(*modules)}


def test_closure_follows_imports():
    simulate = names(["acomflow.simulate"])
    assert {"simulate/render.py", "simulate/sample.py", "store.py", "provenance.py", "logs.py", "__init__.py"} <= simulate
    assert not {"convert.py", "readers/__init__.py"} & simulate
    convert = names(["acomflow.convert"])
    assert {"readers/__init__.py", "readers/source.py", "readers/sequences.py", "calibration.py", "store.py"} <= convert
    assert not any(name.startswith("simulate/") for name in convert)


def test_hash_changes_only_for_steps_that_import_the_changed_code(tmp_path, monkeypatch):
    before = code_hash("acomflow.simulate"), code_hash("acomflow.convert")
    copy = tmp_path / "acomflow"
    shutil.copytree(provenance.PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_ROOT", copy)
    assert (code_hash("acomflow.simulate"), code_hash("acomflow.convert")) == before
    with open(copy / "simulate/render.py", "a") as handle:
        handle.write("\n# changed\n")
    assert code_hash("acomflow.simulate") != before[0]
    assert code_hash("acomflow.convert") == before[1]
    with open(copy / "store.py", "a") as handle:
        handle.write("\n# changed\n")
    assert code_hash("acomflow.convert") != before[1]


def test_atomic_path_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]

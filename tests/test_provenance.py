"""Provenance: the code hash follows exactly the modules a rule's script imports, and outputs
record the hash of the job that wrote them."""

import shutil

from conftest import REPO

from acomflow import provenance
from acomflow.provenance import atomic_path, code_hash, module_closure, record, running, script_hash


def names(modules):
    return {p.relative_to(provenance.PACKAGE_ROOT).as_posix() for p in module_closure(*modules)}


def test_closure_follows_imports():
    simulate = names(["acomflow.simulate.dataset"])
    assert {
        "simulate/render.py",
        "simulate/sample.py",
        "store.py",
        "provenance.py",
        "logs.py",
        "__init__.py",
        "simulate/__init__.py",
    } <= simulate
    assert not {"convert.py", "readers/formats.py"} & simulate
    convert = names(["acomflow.convert"])
    assert {"readers/source.py", "calibration.py", "store.py"} <= convert
    assert not any(name.startswith("simulate/") for name in convert)


def test_centring_does_not_depend_on_the_maxima_search():
    centring = names(["acomflow.prepare.centring"])
    assert "peaks/refine.py" in centring and not any(
        name.startswith("register/") for name in centring
    )
    assert "register/maxima.py" in names(["acomflow.register.dataset"])


def test_hash_changes_only_for_scripts_that_import_the_changed_code(tmp_path, monkeypatch):
    scripts = REPO / "scripts"
    before = script_hash(scripts / "simulate.py"), script_hash(scripts / "convert.py")
    copy = tmp_path / "acomflow"
    shutil.copytree(provenance.PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_ROOT", copy)
    assert (script_hash(scripts / "simulate.py"), script_hash(scripts / "convert.py")) == before
    with open(copy / "simulate/render.py", "a") as handle:
        handle.write("\n# changed\n")
    assert script_hash(scripts / "simulate.py") != before[0]
    assert script_hash(scripts / "convert.py") == before[1]
    with open(copy / "store.py", "a") as handle:
        handle.write("\n# changed\n")
    assert script_hash(scripts / "convert.py") != before[1]


def test_a_script_hash_covers_the_script_itself(tmp_path):
    script = tmp_path / "step.py"
    script.write_text("from acomflow.store import open_store\n")
    before = script_hash(script)
    assert before != code_hash("acomflow.store")
    script.write_text("from acomflow.store import open_store\n# changed\n")
    assert script_hash(script) != before


def test_outputs_record_the_running_jobs_hash():
    assert record({})["code_hash"] == provenance.package_hash()
    with running("0123456789abcdef"):
        assert record({"k": 1})["code_hash"] == "0123456789abcdef"
    assert record({})["code_hash"] == provenance.package_hash()


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

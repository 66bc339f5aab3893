"""Provenance: file checksums, the content hash of the code a step runs, atomic writes.

Every output of the pipeline records the parameters that made it, the acomflow version,
the hash of the code that made it (the rule's script and the package modules it imports), and
the sha256 of its inputs.
Nothing here records a time stamp: the same inputs give byte-identical outputs.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import errno
import functools
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from . import __version__

PACKAGE_ROOT = Path(__file__).resolve().parent
_CHUNK = 1 << 22


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _module_file(name: str) -> Path | None:
    """Source file of an acomflow module name, or None if it is not part of the package."""
    parts = name.split(".")
    if parts[0] != "acomflow":
        return None
    base = PACKAGE_ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, module: str = "") -> frozenset[str]:
    """acomflow module names imported by the file `path` of `module` (absolute and relative
    imports; a script outside the package has no module name and only absolute imports)."""
    return _imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")


@functools.lru_cache(maxsize=1024)
def _imports(source: str, module: str, is_package: bool) -> frozenset[str]:
    """`_imported_modules` of a source text, parsed once per process: every rule's code hash
    follows the imports of the same modules (the workflow hashes each rule's code when it is
    read, in every job)."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(name for name in found if name.split(".")[0] == "acomflow")


def module_closure(*modules: str) -> list[Path]:
    """Files of the given acomflow modules, their parent packages and everything they import,
    sorted."""
    todo, seen, files = list(modules), set(), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        path = _module_file(name)
        if path is None:
            continue
        files.add(path)
        todo.extend(_imported_modules(path, name))
    return sorted(files)


def _digest(files: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, content in files:
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(content)
    return digest.hexdigest()[:16]


def code_hash(*modules: str) -> str:
    """sha256 over the source of `modules` and the acomflow modules they import (transitively)."""
    return _digest(
        (path.relative_to(PACKAGE_ROOT).as_posix(), path.read_bytes())
        for path in module_closure(*modules)
    )


def script_hash(script: str | os.PathLike) -> str:
    """sha256 over a script's own source and the acomflow modules it imports (transitively).

    A workflow rule passes its script's hash as a `params` entry, so that a change of the code
    the rule runs re-runs that rule, and only those rules; the job records the same hash in the
    provenance of its outputs (`running`).
    """
    script = Path(script)
    package = module_closure(*sorted(_imported_modules(script)))
    return _digest(
        [
            (script.name, script.read_bytes()),
            *((path.relative_to(PACKAGE_ROOT).as_posix(), path.read_bytes()) for path in package),
        ]
    )


@functools.cache
def package_hash() -> str:
    """sha256 over every module of the package: the code hash of work done outside a workflow
    job."""
    return _digest(
        (path.relative_to(PACKAGE_ROOT).as_posix(), path.read_bytes())
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
    )


_RUNNING = contextvars.ContextVar("acomflow_code_hash", default=None)


@contextlib.contextmanager
def running(code: str | None) -> Iterator[None]:
    """Within the block, outputs record `code` (a rule's `script_hash`) as their code hash."""
    token = _RUNNING.set(code)
    try:
        yield
    finally:
        _RUNNING.reset(token)


def to_builtin(value):
    """Convert numpy scalars/arrays, paths and tuples into JSON-serialisable builtins."""
    if isinstance(value, dict):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_builtin(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def record(parameters: dict, inputs: Iterable[str | os.PathLike] = ()) -> dict:
    """The provenance block stored in an output's metadata: the code hash of the running job
    (`running`), or of the whole package outside a workflow job."""
    return {
        "acomflow_version": __version__,
        "code_hash": _RUNNING.get() or package_hash(),
        "parameters": to_builtin(parameters),
        "inputs": {os.fspath(path): sha256_file(path) for path in inputs},
    }


def _running(pid: int) -> bool:
    """Whether a process `pid` runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temporary_sibling(path: Path) -> Path:
    """`.{name}.{pid}.tmp` beside `path`, where this process writes it; the temporary siblings
    of processes that no longer run (killed mid-write: nothing else leaves one) are removed."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        pid = stale.name[len(path.name) + 2 : -len(".tmp")]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of `path`; rename it onto `path` only if the block succeeds.

    A failed or interrupted write never leaves a half-written file under the final name,
    and never touches an existing file there; a full disk is an error naming `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        raise OSError(
            errno.ENOSPC, f"{path}: no space left on the device; nothing written under this name"
        ) from error
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: str | os.PathLike, obj) -> None:
    """Write `obj` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(to_builtin(obj), indent=2) + "\n", encoding="utf-8")

"""Which package modules a notebook depends on, read from the source without importing anything.

A notebook depends on every ``emonet`` module it imports and, transitively, on every ``emonet``
module those import: anywhere in a file (imports inside functions count), absolute or relative.
Importing ``emonet.a.b`` also executes ``emonet/__init__.py`` and ``emonet/a/__init__.py``, so
those count too; ``from emonet.a import b`` counts ``emonet.a.b`` when it is a module and the
package ``emonet.a`` otherwise. The set is an over-approximation (an import in a branch that never
runs still counts) and never misses a static import; ``importlib.import_module`` with a computed
name would be missed, and the package uses none.

:func:`package_fingerprint` hashes the files of such a set, so a notebook's stamp changes when,
and only when, a module it can reach changes.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from emonet.data.checksums import sha256_bytes

PACKAGE = "emonet"


def module_file(name: str, root: Path) -> Path | None:
    """File of module ``name`` (dotted) under ``root`` (the folder holding the package), or None."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _with_parents(name: str) -> list[str]:
    """``emonet.a.b`` -> ``["emonet", "emonet.a", "emonet.a.b"]``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def imported_modules(source: str, root: Path, importer: str | None = None) -> set[str]:
    """``emonet`` modules named by the import statements of ``source`` (with their parent
    packages). ``importer``: dotted name of the module the source belongs to, for relative
    imports (None for a notebook)."""
    found: set[str] = set()
    is_package = (
        importer is not None
        and module_file(importer, root) is not None
        and module_file(importer, root).name == "__init__.py"
    )
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if importer is None:
                    continue
                anchor = importer.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [base] + [
                f"{base}.{a.name}"
                for a in node.names
                if module_file(f"{base}.{a.name}", root) is not None
            ]
        else:
            continue
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                found.update(n for n in _with_parents(name) if module_file(n, root))
    return found


@cache
def _module_imports(path: Path, mtime_ns: int, root: Path) -> frozenset[str]:
    return frozenset(imported_modules(path.read_text(), root, _module_name(path, root)))


def closure(modules: set[str], root: Path) -> list[Path]:
    """Files of ``modules`` and of every ``emonet`` module they import, transitively (sorted)."""
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = module_file(name, root)
        if path is None:
            continue
        seen[name] = path
        todo.extend(_module_imports(path, path.stat().st_mtime_ns, root) - set(seen))
    return sorted(seen.values())


def notebook_dependencies(notebook: Path, root: Path) -> list[Path]:
    """The package files notebook ``notebook`` (a py:percent source) can reach."""
    return closure(imported_modules(Path(notebook).read_text(), root), root)


def package_fingerprint(files: list[Path], root: Path) -> str:
    """SHA-256 over the paths (relative to ``root``) and contents of ``files``."""
    return sha256_bytes(
        *(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0" for f in sorted(files))
    )

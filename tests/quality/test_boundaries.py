"""The house's boundaries (../shared/DESIGN.md): a module never imports another module
nor reads its tables; what it needs from another comes through kernel.provided, the
yearly review through each module's indicators. The kernel imports no module. SQL lives in
services (and migrations); pages, routes, commands and specs call services."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("school_ict", "analytics", "library_ebooks", "facilities", "archive", "lake")


def _sources(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.suffix in {".py", ".sql"} and "__pycache__" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


# The portal's tables are read through what it offers (kernel.provided.offered_view:
# "portal.schools", "portal.users", "portal.user_roles"). Only these files still name them:
PORTAL_TABLES_NAMED = {
    "facilities/bench.py": "makes its benchmark's thousands of accounts in one INSERT",
    "analytics/migrations/001_lrs.sql": "a comment in a migration already applied (its checksum is kept)",
}


def _portal_tables_named(path: Path, text: str) -> list[str]:
    if str(path.relative_to(ROOT)) in PORTAL_TABLES_NAMED:
        return []
    return [f"{path.relative_to(ROOT)}: reads {m.group(0)}" for m in re.finditer(r"\bportal_[a-z][a-z_]*\b", text)]


@pytest.mark.parametrize("module", MODULES)
def test_a_module_touches_no_other_module(module):
    others = [m for m in MODULES if m != module]
    table = re.compile(r"\b(" + "|".join(others) + r")_[a-z][a-z_]*\b")
    importing = re.compile(r"^\s*(from|import)\s+(" + "|".join(others) + r"|portal)\b", re.M)
    found = []
    for path, text in _sources(ROOT / module):
        found += [f"{path.relative_to(ROOT)}: reads {m.group(0)}" for m in table.finditer(text)]
        found += _portal_tables_named(path, text)
        found += [f"{path.relative_to(ROOT)}: imports {m.group(2)}" for m in importing.finditer(text)]
    assert found == []


def test_the_portal_tables_exemption_lists_only_files_that_need_it():
    stale = [name for name in PORTAL_TABLES_NAMED
             if not re.search(r"\bportal_[a-z]", (ROOT / name).read_text(encoding="utf-8"))]
    assert stale == []


def test_the_kernel_imports_no_module():
    importing = re.compile(r"^\s*(from|import)\s+(" + "|".join((*MODULES, "portal")) + r")\b", re.M)
    found = [f"{path.relative_to(ROOT)}: {m.group(0).strip()}"
             for path, text in _sources(ROOT / "kernel") for m in importing.finditer(text)]
    assert found == []


# A query written in a Python string: a store call given SELECT, INSERT, UPDATE, DELETE or WITH.
_SQL_CALL = re.compile(r"\.(execute|executemany|query|query_dicts|scalar|sql)\(\s*f?(\"\"\"|\"|')\s*"
                       r"(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.I)
# Besides services/ and migrations/: demo rows and benchmarks make data of their own.
_MAY_HOLD_SQL = ("services", "migrations")


def _holds_sql_by_role(path: Path) -> bool:
    return (any(part in _MAY_HOLD_SQL for part in path.relative_to(ROOT).parts)
            or path.stem.startswith(("demo", "bench", "courses_demo")) or path.stem == "roster_bundle")


@pytest.mark.parametrize("package", (*MODULES, "portal"))
def test_sql_only_in_services(package):
    found = [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
             for path, text in _sources(ROOT / package) if path.suffix == ".py" and not _holds_sql_by_role(path)
             for m in _SQL_CALL.finditer(text)]
    assert found == []

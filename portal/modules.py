"""The one place that knows which modules make up Manabi, in dependency order.

Adding a module: create its package with a `module.py` holding `SPEC`, then add
its name here. Its migrations, catalogue, pages, routes, CLI and demo rows are
then picked up everywhere (server, navigation, `manabi`, tests).
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from kernel import jobs, provided
from kernel.migrations import Migration, discover
from kernel.module import ModuleSpec

MODULE_NAMES = ("portal", "school_ict", "analytics", "library_ebooks", "facilities", "archive", "lake")

KERNEL_CATALOGUE = Path(__file__).resolve().parent.parent / "kernel" / "messages.toml"


@cache
def all_modules() -> tuple[ModuleSpec, ...]:
    specs = tuple(importlib.import_module(f"{name}.module").SPEC for name in MODULE_NAMES)
    for spec in specs:  # what modules offer one another (kernel.provided)
        for name, function in spec.provides.items():
            provided.offer(name, function)
    return specs


def known_migrations() -> dict[str, list[Migration]]:
    return {spec.name: discover(spec.name, spec.migrations_dir) for spec in all_modules()}


def catalogue_files() -> list[Path]:
    return [KERNEL_CATALOGUE] + [path for spec in all_modules() for path in spec.catalogue_files]


def all_jobs() -> list[jobs.Job]:
    """Every module's jobs (a module's `nightly` shorthand is a nightly job named after it),
    then those registered outside the modules (kernel.jobs.register)."""
    found = []
    for spec in all_modules():
        found.extend(spec.jobs)
        if spec.nightly is not None:
            found.append(jobs.Job(spec.name, jobs.NIGHTLY, spec.nightly))
    return [*found, *jobs.registered()]

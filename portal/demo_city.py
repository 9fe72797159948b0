"""Loads the demo city: each module adds its own rows, in dependency order.

Deterministic: each module draws from a random source seeded by its name and the
scale, so the same command gives the same city. Idempotent: a module whose demo is
in the database already is skipped. Each module's rows go in one transaction.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from kernel.errors import InvalidInput
from kernel.migrations import get_meta, set_meta
from kernel.module import DemoContext
from portal.modules import all_modules
from portal.runtime import Runtime
from portal.services import roster

SCALES = ("small", "city")


@dataclass(frozen=True)
class DemoStep:
    module: str
    status: str  # "loaded" | "already"


def load_demo(runtime: Runtime, scale: str = "small",
              on_start: Callable[[str], None] | None = None) -> list[DemoStep]:
    """Load every module's demo rows; `on_start(module)` is called before each loads
    (the city scale takes minutes, so the CLI says what it is doing)."""
    if scale not in SCALES:
        raise InvalidInput("demo.bad_scale", scale=scale, scales=", ".join(SCALES))
    store = runtime.store
    loaded_scale = get_meta(store, "demo_scale")
    if loaded_scale and loaded_scale != scale:
        raise InvalidInput("demo.other_scale", loaded=loaded_scale, scale=scale)
    if not loaded_scale and store.scalar("SELECT count(*) FROM portal_users WHERE NOT is_demo"):
        # Never put demo accounts with a published password beside real ones.
        raise InvalidInput("demo.real_data")
    steps = []
    for spec in all_modules():
        marker = f"demo:{spec.name}"
        if spec.demo is None:
            continue
        if get_meta(store, marker):
            steps.append(DemoStep(spec.name, "already"))
            continue

        if on_start:
            on_start(spec.name)

        def load(cur, spec=spec, marker=marker) -> None:
            spec.demo(DemoContext(cur, runtime.clock, random.Random(f"manabi:{spec.name}:{scale}"), scale))
            set_meta(cur, marker, scale)
            set_meta(cur, "demo_scale", scale)

        # Demo learning records are numbered after the stored ones: not beside a live batch.
        with roster.statements_held(store):
            store.write(load, retries=1)
        steps.append(DemoStep(spec.name, "loaded"))
    steps += _roster(runtime, scale, on_start)
    return steps


def _roster(runtime: Runtime, scale: str, on_start) -> list[DemoStep]:
    """The demo city's school roster, through the same import a city's OneRoster bundle takes:
    the pupils school ICT made get names and kana, which their class teachers then see."""
    from kernel.actor import SYSTEM
    from portal.roster_bundle import demo_roster

    store = runtime.store
    if get_meta(store, "demo:roster"):
        return [DemoStep("roster", "already")]
    files = demo_roster(store, runtime.clock, random.Random(f"manabi:roster:{scale}"))
    if files is None:
        return []
    if on_start:
        on_start("roster")
    result = roster.import_bundle(store, runtime.clock, SYSTEM, files)
    if not result.ok:
        raise InvalidInput("demo.roster_rejected", reason=str(result.errors[:3]))
    store.write(lambda cur: set_meta(cur, "demo:roster", scale))
    return [DemoStep("roster", "loaded")]

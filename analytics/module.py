"""Learning analytics (measure 4-1-4): the xAPI learning record store and dashboards."""

from pathlib import Path

from kernel.module import ModuleSpec

SPEC = ModuleSpec(name="analytics", package_dir=Path(__file__).resolve().parent)

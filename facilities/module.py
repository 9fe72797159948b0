"""Facilities and courses (measures 4-2-2 … 4-2-4): vacancy, booking, lottery, fees, courses."""

from pathlib import Path

from kernel.module import ModuleSpec

SPEC = ModuleSpec(name="facilities", package_dir=Path(__file__).resolve().parent)

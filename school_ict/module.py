"""School ICT (measures 4-1-1 … 4-1-3): devices, e-blackboards, repairs, network load."""

from pathlib import Path

from kernel.module import ModuleSpec

SPEC = ModuleSpec(name="school_ict", package_dir=Path(__file__).resolve().parent)

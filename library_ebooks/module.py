"""E-book lending (measure 4-2-5): catalogue, licenses, loans, holds, reader, OPDS."""

from pathlib import Path

from kernel.module import ModuleSpec

SPEC = ModuleSpec(name="library_ebooks", package_dir=Path(__file__).resolve().parent)

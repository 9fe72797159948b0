"""The cultural-heritage archive (measure 4-2-1): items, media, map, publishing, IIIF."""

from pathlib import Path

from kernel.module import ModuleSpec

SPEC = ModuleSpec(name="archive", package_dir=Path(__file__).resolve().parent)

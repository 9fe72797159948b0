"""Which municipality this instance serves (shared use: one instance per municipality).

The database keeps its municipality's code (manabi_meta, set by `manabi tenants add`), so a
command run on it by hand names the right one; a city's own single instance needs nothing
(MANABI_MUNICIPALITY, else Iizuka's code). Its names and population are settings.
"""

from __future__ import annotations

import re

from kernel.config import setting
from kernel.errors import InvalidInput
from kernel.migrations import get_meta
from kernel.store import Store

META = "portal:municipality"
DEFAULT_CODE = "40205"  # Iizuka (全国地方公共団体コード without its check digit)
DEFAULT_NAMES = {"ja": "飯塚市", "en": "Iizuka"}
CODE = re.compile(r"[0-9]{5,6}")


def code(store: Store) -> str:
    kept = get_meta(store, META)
    configured = setting("municipality")
    if kept is not None and configured is not None and configured != kept:
        # A server started with another municipality's settings on this database.
        raise InvalidInput("error.municipality_mismatch", kept=kept, configured=configured)
    found = kept or configured or DEFAULT_CODE
    if not CODE.fullmatch(found):
        raise InvalidInput("error.bad_municipality", code=found)
    return found


def city_name(lang: str = "ja") -> str:
    lang = "en" if lang == "en" else "ja"
    return setting(f"city_name_{lang}") or DEFAULT_NAMES[lang]

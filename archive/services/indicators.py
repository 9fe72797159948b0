"""The archive's indicators for the city's yearly review (measure 4-2-1)."""

from __future__ import annotations

from kernel.clock import Clock
from kernel.indicators import Indicator, fiscal_year, fiscal_year_bounds
from kernel.store import Store

YEARS_SHOWN = 3


def indicators(store: Store, clock: Clock) -> list[Indicator]:
    this_year = fiscal_year(clock.now().date())
    published, views = [], []
    for year in range(this_year - YEARS_SHOWN + 1, this_year + 1):
        start, end = fiscal_year_bounds(year)
        # Items public at the year's end: published by then and not withdrawn since.
        count = store.scalar(
            "SELECT count(*) FROM archive_items WHERE status = 'published' AND published_at < ?", [end])
        published.append((year, float(count) if count else None))
        seen = store.scalar("SELECT sum(views) FROM archive_views WHERE day >= ? AND day < ?", [start, end])
        views.append((year, float(seen) if seen else None))
    return [
        Indicator("4-2-1", "archive.indicator.items_published", "review.unit.count", tuple(published)),
        Indicator("4-2-1", "archive.indicator.views", "review.unit.count", tuple(views)),
    ]

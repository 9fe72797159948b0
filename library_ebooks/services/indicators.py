"""The e-library's indicators for the city's yearly review (measure 4-2-5)."""

from __future__ import annotations

from datetime import datetime, time

from kernel.clock import TOKYO, Clock
from kernel.config import setting
from kernel.indicators import Indicator, fiscal_year, fiscal_year_bounds
from kernel.store import Store

YEARS_SHOWN = 3
# Iizuka's population (2020 census); set MANABI_CITY_POPULATION when it changes.
DEFAULT_POPULATION = 126_364


def indicators(store: Store, clock: Clock) -> list[Indicator]:
    population = int(setting("city_population", str(DEFAULT_POPULATION)) or DEFAULT_POPULATION)
    this_year = fiscal_year(clock.now().date())
    loans, waiting = [], []
    for year in range(this_year - YEARS_SHOWN + 1, this_year + 1):
        start, end = fiscal_year_bounds(year)
        count = store.scalar(
            "SELECT count(*) FROM library_ebooks_loans WHERE borrowed_at >= ? AND borrowed_at < ?", [start, end])
        loans.append((year, round(1000.0 * count / population, 2) if count else None))
        # Holds still waiting for a copy at the year's end (or now, for this year).
        moment = min(datetime.combine(end, time.min, TOKYO), clock.now())
        held = store.scalar(
            """SELECT count(*) FROM library_ebooks_holds
               WHERE placed_at < $1 AND (closed_at IS NULL OR closed_at > $1)
                 AND (offered_at IS NULL OR offered_at > $1)""", [moment])
        waiting.append((year, float(held) if held else None))
    return [
        Indicator("4-2-5", "library_ebooks.indicator.loans_per_1000", "review.unit.per_1000", tuple(loans)),
        Indicator("4-2-5", "library_ebooks.indicator.holds_waiting", "review.unit.count", tuple(waiting),
                  higher_is_better=False),
    ]

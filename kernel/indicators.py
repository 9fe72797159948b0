"""Indicators for the city's yearly review (plan chapter 5, PDCA).

Each module offers its measures' indicators through one function,
`ModuleSpec.indicators(store, clock) -> list[Indicator]`, computed from its own
tables only; the portal's review page composes them. Years are Japanese fiscal
years (April to March), named by the calendar year they start in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The plan's measures this portal carries out, in the plan's order.
MEASURES = ("4-1-1", "4-1-2", "4-1-3", "4-1-4", "4-2-1", "4-2-2", "4-2-3", "4-2-4", "4-2-5")


@dataclass(frozen=True)
class Indicator:
    measure: str  # one of MEASURES
    key: str  # catalogue key naming the indicator, e.g. "school_ict.indicator.availability"
    unit: str  # catalogue key of its unit, e.g. "review.unit.percent"
    series: tuple[tuple[int, float | None], ...]  # (fiscal year, value), oldest first
    target: float | None = None
    higher_is_better: bool = True

    def value(self, year: int) -> float | None:
        return dict(self.series).get(year)


def fiscal_year(day: date) -> int:
    """Japanese fiscal year: 2026-04-01 … 2027-03-31 is fiscal 2026."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_bounds(year: int) -> tuple[date, date]:
    """First day of the fiscal year and first day of the next."""
    return date(year, 4, 1), date(year + 1, 4, 1)

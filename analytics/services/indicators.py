"""Learning analytics' indicators for the city's yearly review (measure 4-1-4), from
the learning record store's own fact columns (voided statements left out)."""

from __future__ import annotations

from kernel.clock import Clock
from kernel.indicators import Indicator, fiscal_year, fiscal_year_bounds
from kernel.store import Store

YEARS_SHOWN = 3


def _series(store: Store, clock: Clock, sql: str) -> tuple[tuple[int, float | None], ...]:
    this_year = fiscal_year(clock.now().date())
    series = []
    for year in range(this_year - YEARS_SHOWN + 1, this_year + 1):
        start, end = fiscal_year_bounds(year)
        value = store.scalar(sql, [start, end])
        series.append((year, None if value is None else round(float(value), 3)))
    return tuple(series)


def indicators(store: Store, clock: Clock) -> list[Indicator]:
    return [
        Indicator("4-1-4", "analytics.indicator.active_learners", "review.unit.people", _series(
            store, clock,
            """SELECT nullif(count(DISTINCT learner_id), 0) FROM analytics_statements
               WHERE NOT voided AND voids_id IS NULL AND ts >= ? AND ts < ?""")),
        Indicator("4-1-4", "analytics.indicator.mastery", "review.unit.score", _series(
            store, clock,
            """SELECT avg(score_scaled) FROM analytics_statements
               WHERE NOT voided AND score_scaled IS NOT NULL AND ts >= ? AND ts < ?"""), target=0.7),
        Indicator("4-1-4", "analytics.indicator.statements", "review.unit.count", _series(
            store, clock,
            """SELECT nullif(count(*), 0) FROM analytics_statements
               WHERE NOT voided AND voids_id IS NULL AND ts >= ? AND ts < ?""")),
    ]

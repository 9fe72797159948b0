"""School ICT's indicators for the city's yearly review (measures 4-1-1 … 4-1-3).

Each is a series over the last three fiscal years, computed from this module's own
tables: the device events give each device's status at any moment, so past years'
availability is reconstructed rather than remembered.
"""

from __future__ import annotations

from datetime import datetime, time

from kernel.clock import TOKYO, Clock
from kernel.indicators import Indicator, fiscal_year, fiscal_year_bounds
from kernel.store import Store
from school_ict.services import network

YEARS_SHOWN = 3


def _years(clock: Clock) -> list[int]:
    this_year = fiscal_year(clock.now().date())
    return list(range(this_year - YEARS_SHOWN + 1, this_year + 1))


def _until(clock: Clock, year: int) -> datetime:
    """The end of a fiscal year, or now for the year under way."""
    end = datetime.combine(fiscal_year_bounds(year)[1], time.min, TOKYO)
    return min(end, clock.now())


def _available_share(store: Store, kind: str, at: datetime) -> float | None:
    """Share of devices of `kind` that were usable (in stock or assigned) at `at`."""
    row = store.query(
        """WITH last_status AS (
               SELECT device_id, arg_max(to_status, happened_at) AS status
               FROM school_ict_events WHERE happened_at <= ? AND to_status IS NOT NULL
               GROUP BY device_id)
           SELECT count(*) FILTER (WHERE s.status IN ('in_stock', 'assigned')),
                  count(*) FILTER (WHERE s.status <> 'retired')
           FROM school_ict_devices d JOIN last_status s ON s.device_id = d.id
           WHERE d.kind = ?""",
        [at, kind],
    )
    usable, in_service = row[0]
    return round(100.0 * usable / in_service, 1) if in_service else None


def _per_year(store: Store, clock: Clock, sql: str) -> tuple[tuple[int, float | None], ...]:
    """Run `sql` (parameters: start, end) for each fiscal year shown."""
    series = []
    for year in _years(clock):
        start, end = fiscal_year_bounds(year)
        value = store.scalar(sql, [start, end])
        series.append((year, None if value is None else round(float(value), 2)))
    return tuple(series)


def indicators(store: Store, clock: Clock) -> list[Indicator]:
    years = _years(clock)
    tablets = tuple((y, _available_share(store, "pupil_tablet", _until(clock, y))) for y in years)
    teacher_tablets = tuple((y, _available_share(store, "teacher_tablet", _until(clock, y))) for y in years)
    boards = tuple((y, _available_share(store, "e_blackboard", _until(clock, y))) for y in years)
    breakage = _per_year(store, clock, """
        SELECT 100.0 * (SELECT count(*) FROM school_ict_repairs
                        WHERE opened_at >= $1::DATE AND opened_at < $2::DATE)
               / nullif((SELECT count(*) FROM school_ict_devices
                         WHERE purchase_date IS NULL OR purchase_date < $2::DATE), 0)""")
    return [
        Indicator("4-1-1", "school_ict.indicator.tablets_available", "review.unit.percent", tablets, target=98.0),
        Indicator("4-1-1", "school_ict.indicator.use_minutes", "school_ict.indicator.unit_minutes", _per_year(
            store, clock,
            """SELECT avg(u.active_minutes) FROM school_ict_usage u
               JOIN school_ict_devices d ON d.id = u.device_id
               WHERE d.kind = 'pupil_tablet' AND u.day >= ? AND u.day < ?""")),
        Indicator("4-1-1", "school_ict.indicator.replacements_due", "review.unit.count", _per_year(
            store, clock,
            """SELECT count(*) FROM school_ict_devices
               WHERE status <> 'retired' AND support_end >= ? AND support_end < ?"""),
            higher_is_better=False),
        Indicator("4-1-1", "school_ict.indicator.blackboards_available", "review.unit.percent", boards, target=98.0),
        Indicator("4-1-1", "school_ict.indicator.breakage", "review.unit.per_100", breakage, higher_is_better=False),
        Indicator("4-1-3", "school_ict.indicator.teacher_tablets_available", "review.unit.percent",
                  teacher_tablets, target=98.0),
        Indicator("4-1-2", "school_ict.indicator.peak_network", "review.unit.mbps_per_pupil", _per_year(
            store, clock,
            """SELECT median(peak / nullif(s.pupils, 0)) FROM (
                   SELECT school_id, max(mbps_down) AS peak FROM school_ict_network_samples
                   WHERE sampled_at >= ? AND sampled_at < ? GROUP BY school_id) p
               JOIN portal_schools s ON s.id = p.school_id"""),
            target=network.target(store), higher_is_better=False),  # over the target: the line is short
    ]

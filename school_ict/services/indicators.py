"""School ICT's indicators for the city's yearly review (measures 4-1-1 … 4-1-3).

Each is a series over the last three fiscal years, computed from this module's own
tables: the device events give each device's status at any moment, so past years'
availability is reconstructed rather than remembered.
"""

from __future__ import annotations

from datetime import datetime, time

from kernel.clock import TOKYO, Clock
from kernel.indicators import Indicator, fiscal_year, fiscal_year_bounds
from kernel.provided import offered_view
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


def records_begin(store: Store) -> int | None:
    """The fiscal year the registry's records begin: its first recorded change (a check-out,
    a repair, a status change). A device's registration is dated at its purchase, so it says
    nothing of when records began; None for a registry that has recorded nothing yet."""
    first = store.scalar("SELECT min(happened_at) FROM school_ict_events WHERE kind <> 'registered'")
    return fiscal_year(first.astimezone(TOKYO).date()) if first is not None else None


def _recorded(store: Store, clock: Clock,
              series: tuple[tuple[int, float | None], ...]) -> tuple[tuple[int, float | None], ...]:
    """A year before the records begin has no data (None), not a zero or a full fleet."""
    begin = records_begin(store)
    if begin is None:
        begin = fiscal_year(clock.now().date())
    return tuple((year, value if year >= begin else None) for year, value in series)


def _per_year(store: Store, clock: Clock, sql: str) -> tuple[tuple[int, float | None], ...]:
    """Run `sql` (parameters: start, end) for each fiscal year shown."""
    series = []
    for year in _years(clock):
        start, end = fiscal_year_bounds(year)
        value = store.scalar(sql, [start, end])
        series.append((year, None if value is None else round(float(value), 2)))
    return tuple(series)


def _replacements_due(store: Store, clock: Clock) -> tuple[tuple[int, float | None], ...]:
    """Devices whose support ends in each fiscal year. A device replaced since is retired now
    but did reach its end that year: it counts unless it was retired before the year began.
    Before the earliest end of support the registry holds, a year with none cannot be told
    from a year whose devices were never registered (an older generation gone before the
    registry began): those years have no data, so the review shows no change from zero."""
    first_end = store.scalar("SELECT min(support_end) FROM school_ict_devices")
    series = _recorded(store, clock, _per_year(store, clock, """
        SELECT count(*) FROM school_ict_devices d
        WHERE d.support_end >= $1::DATE AND d.support_end < $2::DATE
          AND NOT EXISTS (SELECT 1 FROM school_ict_events e WHERE e.device_id = d.id
                          AND e.to_status = 'retired' AND e.happened_at < $1::DATE)"""))
    if first_end is None:
        return tuple((year, None) for year, _ in series)
    return tuple((year, value if year >= fiscal_year(first_end) else None) for year, value in series)


def indicators(store: Store, clock: Clock) -> list[Indicator]:
    years = _years(clock)
    offered_view(store.cursor(), "portal.schools")  # pupils per school (4-1-2)
    tablets = _recorded(store, clock, tuple((y, _available_share(store, "pupil_tablet", _until(clock, y)))
                                            for y in years))
    teacher_tablets = _recorded(store, clock, tuple((y, _available_share(store, "teacher_tablet",
                                                                           _until(clock, y))) for y in years))
    boards = _recorded(store, clock, tuple((y, _available_share(store, "e_blackboard", _until(clock, y)))
                                           for y in years))
    breakage = _recorded(store, clock, _per_year(store, clock, """
        SELECT 100.0 * (SELECT count(*) FROM school_ict_repairs
                        WHERE opened_at >= $1::DATE AND opened_at < $2::DATE)
               / nullif((SELECT count(*) FROM school_ict_devices
                         WHERE purchase_date IS NULL OR purchase_date < $2::DATE), 0)"""))
    return [
        Indicator("4-1-1", "school_ict.indicator.tablets_available", "review.unit.percent", tablets, target=98.0),
        Indicator("4-1-1", "school_ict.indicator.use_minutes", "school_ict.indicator.unit_minutes", _per_year(
            store, clock,
            """SELECT avg(u.active_minutes) FROM school_ict_usage u
               JOIN school_ict_devices d ON d.id = u.device_id
               WHERE d.kind = 'pupil_tablet' AND u.day >= ? AND u.day < ?""")),
        Indicator("4-1-1", "school_ict.indicator.replacements_due", "review.unit.count",
                  _replacements_due(store, clock), higher_is_better=False),
        Indicator("4-1-1", "school_ict.indicator.blackboards_available", "review.unit.percent", boards, target=98.0),
        Indicator("4-1-1", "school_ict.indicator.breakage", "review.unit.per_100", breakage, higher_is_better=False),
        Indicator("4-1-3", "school_ict.indicator.teacher_tablets_available", "review.unit.percent",
                  teacher_tablets, target=98.0),
        Indicator("4-1-2", "school_ict.indicator.peak_network", "review.unit.mbps_per_pupil", _per_year(
            store, clock,
            """SELECT median(peak / nullif(s.pupils, 0)) FROM (
                   SELECT school_id, max(mbps_down) AS peak FROM school_ict_network_samples
                   WHERE sampled_at >= ? AND sampled_at < ? GROUP BY school_id) p
               JOIN offered_schools s ON s.id = p.school_id"""),
            target=network.target(store), higher_is_better=False),  # over the target: the line is short
    ]

"""Facilities' and courses' indicators for the city's yearly review
(measures 4-2-2 … 4-2-4, and the online English lessons of 4-1-2)."""

from __future__ import annotations

from datetime import date, timedelta

from kernel.clock import Clock
from kernel.indicators import Indicator, fiscal_year, fiscal_year_bounds
from kernel.store import Store

YEARS_SHOWN = 3
LIVE = ("won", "confirmed")


def _years(clock: Clock) -> list[int]:
    this_year = fiscal_year(clock.now().date())
    return list(range(this_year - YEARS_SHOWN + 1, this_year + 1))


def _occupancy(store: Store, start: date, end: date) -> float | None:
    """Booked share of the slots that were open: rooms × blocks × days the facility opens."""
    open_slots = store.scalar(
        """SELECT count(*) FROM facilities_rooms r
           JOIN facilities_facilities f ON f.id = r.facility_id
           JOIN facilities_blocks b ON b.facility_id = f.id
           CROSS JOIN range(?::DATE, ?::DATE, INTERVAL 1 DAY) AS d(day)
           WHERE r.active AND f.active AND NOT list_contains(f.closed_weekdays, isodow(d.day))""",
        [start, end],
    )
    booked = store.scalar(
        "SELECT count(*) FROM facilities_bookings WHERE status IN ('won', 'confirmed') AND day >= ? AND day < ?",
        [start, end],
    )
    return round(100.0 * booked / open_slots, 1) if open_slots and booked else None


def _ratio(store: Store, sql: str, *params) -> float | None:
    value = store.scalar(sql, list(params))
    return None if value is None else round(float(value), 2)


def indicators(store: Store, clock: Clock) -> list[Indicator]:
    today = clock.now().date()
    occupancy, oversubscription, registrations, online, cashless, english = [], [], [], [], [], []
    for year in _years(clock):
        start, end = fiscal_year_bounds(year)
        # This year's occupancy counts the days up to today and the next two months' bookings.
        occupancy.append((year, _occupancy(store, start, min(end, today + timedelta(days=60)))))
        oversubscription.append((year, _ratio(store, """
            SELECT count(a.id)::DOUBLE / nullif(count(DISTINCT (s.room_id, s.day, s.block_code)), 0)
            FROM facilities_lottery_slots s
            LEFT JOIN facilities_lottery_applications a
              ON a.month = s.month AND a.room_id = s.room_id AND a.day = s.day AND a.block_code = s.block_code
            WHERE s.day >= ? AND s.day < ?""", start, end)))
        registrations.append((year, _ratio(store, """
            SELECT nullif(count(*), 0) FROM facilities_course_registrations
            WHERE status = 'registered' AND registered_at >= ? AND registered_at < ?""", start, end)))
        online.append((year, _ratio(store, """
            SELECT 100.0 * count(DISTINCT (j.session_id, j.participant)) FILTER (WHERE NOT j.moderator)
                   / nullif((SELECT count(*) FROM facilities_course_sessions cs
                             JOIN facilities_course_registrations r ON r.course_id = cs.course_id
                             WHERE cs.meeting_room IS NOT NULL AND cs.status = 'planned'
                               AND r.status = 'registered' AND cs.starts_at >= $1 AND cs.starts_at < $2
                               AND cs.starts_at <= $3), 0)
            FROM facilities_meeting_joins j JOIN facilities_course_sessions s ON s.id = j.session_id
            WHERE j.kind = 'course' AND s.starts_at >= $1 AND s.starts_at < $2""", start, end, clock.now())))
        cashless.append((year, _ratio(store, """
            SELECT 100.0 * count(*) FILTER (WHERE method = 'qr') / nullif(count(*), 0)
            FROM facilities_payments WHERE kind = 'payment' AND recorded_at >= ? AND recorded_at < ?""",
                                      start, end)))
        english.append((year, _ratio(store, """
            SELECT nullif(count(*), 0) FROM facilities_class_sessions
            WHERE kind = 'english' AND starts_at >= ? AND starts_at < ?""", start, end)))
    return [
        Indicator("4-1-2", "facilities.indicator.english_lessons", "review.unit.count", tuple(english)),
        Indicator("4-2-2", "facilities.indicator.occupancy", "review.unit.percent", tuple(occupancy)),
        Indicator("4-2-2", "facilities.indicator.oversubscription", "facilities.indicator.unit_per_slot",
                  tuple(oversubscription)),
        Indicator("4-2-3", "facilities.indicator.course_registrations", "review.unit.people", tuple(registrations)),
        Indicator("4-2-3", "facilities.indicator.online_participation", "review.unit.percent", tuple(online)),
        Indicator("4-2-4", "facilities.indicator.cashless", "review.unit.percent", tuple(cashless)),
    ]

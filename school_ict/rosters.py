"""What school ICT offers other modules (kernel.provided): a school's classrooms and
pupils with whether each pupil has a working tablet today. Courses' online classes use
it; they never read school ICT's tables themselves."""

from __future__ import annotations

from datetime import date

from kernel.store import Store

# A pupil's tablet is ready when it is assigned to them and still supported.
_READY = "d.pupil_id = p.id AND d.status = 'assigned' AND (d.support_end IS NULL OR d.support_end > ?)"


def classrooms_with_readiness(store: Store, school_id: int, today: date) -> list[tuple]:
    """(classroom id, school id, grade, class name, pupils, pupils with a ready tablet)."""
    return store.query(
        f"""SELECT c.id, c.school_id, c.grade, c.class_name,
                   count(DISTINCT p.id) AS pupils,
                   count(DISTINCT p.id) FILTER (WHERE d.id IS NOT NULL) AS ready
            FROM school_ict_classrooms c
            LEFT JOIN school_ict_pupils p ON p.classroom_id = c.id AND p.active
            LEFT JOIN school_ict_devices d ON {_READY}
            WHERE c.school_id = ? GROUP BY ALL ORDER BY c.grade, c.class_name""",
        [today, school_id])


def pupils_with_readiness(store: Store, classroom_id: int, today: date) -> list[tuple[str, bool]]:
    """(pseudonym, has a ready tablet) for each active pupil of a classroom."""
    return [(pseudonym, bool(ready)) for pseudonym, ready in store.query(
        f"""SELECT p.pseudonym, bool_or(d.id IS NOT NULL) FROM school_ict_pupils p
            LEFT JOIN school_ict_devices d ON {_READY}
            WHERE p.classroom_id = ? AND p.active GROUP BY p.pseudonym ORDER BY p.pseudonym""",
        [today, classroom_id])]

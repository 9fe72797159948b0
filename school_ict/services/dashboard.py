"""What a school's (or the city's) fleet looks like today: counts by kind and status,
each class's readiness for an online lesson, devices not seen for two weeks."""

from __future__ import annotations

from datetime import timedelta

from kernel.actor import Actor
from kernel.clock import TOKYO
from kernel.provided import offered_view
from kernel.store import Store
from school_ict.services.access import school_scope

NOT_SEEN_DAYS = 14


def status_counts(store: Store, actor: Actor, school_id: int | None = None) -> list[dict]:
    """[{kind, status, devices}] for the actor's school, or the city for the board."""
    school_id = school_scope(actor, school_id)
    return store.query_dicts(
        """SELECT kind, status, count(*) AS devices FROM school_ict_devices
           WHERE (? IS NULL OR school_id = ?) GROUP BY kind, status ORDER BY kind, status""",
        [school_id, school_id])


def schools_overview(store: Store, actor: Actor) -> list[dict]:
    """One row per visible school: its devices by status, for the board's fleet view."""
    school_id = school_scope(actor, None)
    offered_view(store.cursor(), "portal.schools")
    return store.query_dicts(
        """SELECT s.id AS school_id, s.code, s.name_ja, s.name_en, s.pupils,
                  count(d.id) AS devices,
                  count(d.id) FILTER (d.status = 'assigned') AS assigned,
                  count(d.id) FILTER (d.status = 'in_stock') AS in_stock,
                  count(d.id) FILTER (d.status = 'in_repair') AS in_repair,
                  count(d.id) FILTER (d.status = 'lost') AS lost,
                  count(d.id) FILTER (d.status = 'retired') AS retired
           FROM offered_schools s LEFT JOIN school_ict_devices d ON d.school_id = s.id
           WHERE (? IS NULL OR s.id = ?)
           GROUP BY ALL ORDER BY s.code""", [school_id, school_id])


def class_readiness(store: Store, clock, actor: Actor, school_id: int | None = None) -> list[dict]:
    """Per class: pupils, pupils holding a working tablet today (4-1-1, online lessons),
    and tablets held by the class not seen for NOT_SEEN_DAYS days or more."""
    school_id = school_scope(actor, school_id)
    cutoff = clock.now() - timedelta(days=NOT_SEEN_DAYS)
    offered_view(store.cursor(), "portal.schools")
    return store.query_dicts(
        """SELECT c.id AS classroom_id, s.code AS school_code, c.grade, c.class_name,
                  count(p.id) AS pupils,
                  count(d.id) FILTER (d.status = 'assigned') AS ready,
                  count(d.id) FILTER (d.status = 'assigned' AND (d.last_seen_at IS NULL OR d.last_seen_at < ?))
                      AS not_seen
           FROM school_ict_classrooms c
           JOIN offered_schools s ON s.id = c.school_id
           LEFT JOIN school_ict_pupils p ON p.classroom_id = c.id AND p.active
           LEFT JOIN school_ict_devices d ON d.pupil_id = p.id
           WHERE (? IS NULL OR c.school_id = ?)
           GROUP BY ALL ORDER BY s.code, c.grade, c.class_name""", [cutoff, school_id, school_id])


def not_seen_devices(store: Store, clock, actor: Actor, school_id: int | None = None) -> list[dict]:
    """Assigned devices with no sign of life for NOT_SEEN_DAYS days: lost in a bag, or broken."""
    school_id = school_scope(actor, school_id)
    cutoff = clock.now() - timedelta(days=NOT_SEEN_DAYS)
    return store.query_dicts(
        """SELECT d.asset_tag, d.kind, d.model, p.pseudonym AS pupil, c.grade, c.class_name, d.last_seen_at
           FROM school_ict_devices d
           LEFT JOIN school_ict_pupils p ON p.id = d.pupil_id
           LEFT JOIN school_ict_classrooms c ON c.id = p.classroom_id
           WHERE d.status = 'assigned' AND (d.last_seen_at IS NULL OR d.last_seen_at < ?)
             AND (? IS NULL OR d.school_id = ?)
           ORDER BY d.last_seen_at NULLS FIRST, d.asset_tag""", [cutoff, school_id, school_id])


def past_support_end(store: Store, clock, actor: Actor, school_id: int | None = None) -> list[dict]:
    """Devices still in use (not retired or lost) whose support has ended: they get no more
    security updates, so they need replacing (or taking out of use). Oldest end first."""
    school_id = school_scope(actor, school_id)
    today = clock.now().astimezone(TOKYO).date()
    offered_view(store.cursor(), "portal.schools")
    return store.query_dicts(
        """SELECT d.asset_tag, d.kind, d.model, d.status, d.support_end, s.code AS school_code,
                  p.pseudonym AS pupil, c.grade, c.class_name
           FROM school_ict_devices d JOIN offered_schools s ON s.id = d.school_id
           LEFT JOIN school_ict_pupils p ON p.id = d.pupil_id
           LEFT JOIN school_ict_classrooms c ON c.id = coalesce(d.classroom_id, p.classroom_id)
           WHERE d.support_end < ? AND d.status NOT IN ('retired', 'lost')
             AND (? IS NULL OR d.school_id = ?)
           ORDER BY d.support_end, d.asset_tag""", [today, school_id, school_id])

"""Repair tickets: one per fault, from report to return (or write-off), and breakage
per 100 devices per school term by school and model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kernel.actor import Actor
from kernel.errors import InvalidInput, Message, NotFound
from kernel.outbox import notify
from kernel.provided import offered_view
from kernel.store import Store
from school_ict.services.access import require_hand_out, require_manage, school_scope
from school_ict.services.errors import TransitionRefused
from school_ict.services.registry import release_device, visible_device

CAUSES = ("drop", "liquid", "wear", "unknown")
OUTCOMES = {"returned": "in_stock", "written_off": "retired"}

# Japanese school terms within a fiscal year (April–March): 1 = Apr–Aug, 2 = Sep–Dec, 3 = Jan–Mar.
TERM_SQL = "CASE WHEN month({col}) BETWEEN 4 AND 8 THEN 1 WHEN month({col}) >= 9 THEN 2 ELSE 3 END"
FISCAL_YEAR_SQL = "CASE WHEN month({col}) >= 4 THEN year({col}) ELSE year({col}) - 1 END"


@dataclass(frozen=True)
class Repair:
    id: int
    asset_tag: str
    school_code: str
    model: str
    opened_at: datetime
    opened_by: str
    symptom: str
    pupil: str | None
    cause: str
    state: str
    closed_at: datetime | None
    resolution: str | None


def open_repair(store: Store, clock, actor: Actor, asset_tag: str, symptom: str, cause: str) -> int:
    """A fault reported: the device goes to repair, leaving its holder (who may get a loaner);
    the ticket keeps which pupil had it."""
    if cause not in CAUSES:
        raise InvalidInput("ict.error.bad_cause", cause=cause)
    if not symptom.strip():
        raise InvalidInput("ict.error.no_symptom")

    def work(cur) -> int:
        device = visible_device(cur, actor, asset_tag)
        require_hand_out(actor, device.school_id)
        if device.status in ("in_repair", "retired", "lost"):
            raise TransitionRefused(f"ict.error.cannot_repair_{device.status}", tag=device.asset_tag)
        now = clock.now()
        repair_id = cur.execute(
            """INSERT INTO school_ict_repairs (device_id, school_id, model, opened_at, opened_by, symptom, pupil_id,
                   cause, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open') RETURNING id""",
            [device.id, device.school_id, device.model, now, actor.login or "system", symptom.strip(),
             device.pupil_id, cause]).fetchone()[0]
        release_device(cur, now, actor, device, "in_repair", "repair_opened", symptom.strip())
        return repair_id

    return store.write(work)


def close_repair(store: Store, clock, actor: Actor, repair_id: int, outcome: str, resolution: str = "") -> None:
    """Back from repair into stock, or written off (retired)."""
    if outcome not in OUTCOMES:
        raise InvalidInput("ict.error.bad_outcome", outcome=outcome)

    def work(cur) -> None:
        row = cur.execute("SELECT d.asset_tag, r.state, r.opened_by, r.opened_at, r.symptom, r.model "
                          "FROM school_ict_repairs r JOIN school_ict_devices d ON d.id = r.device_id WHERE r.id = ?",
                          [repair_id]).fetchone()
        if row is None:
            raise NotFound("ict.error.no_such_repair", repair=repair_id)
        device = visible_device(cur, actor, row[0])
        require_manage(actor, device.school_id)
        if row[1] != "open":
            raise TransitionRefused("ict.error.repair_closed", repair=repair_id)
        now = clock.now()
        cur.execute("UPDATE school_ict_repairs SET state = ?, closed_at = ?, resolution = ? WHERE id = ?",
                    [outcome, now, resolution.strip() or None, repair_id])
        release_device(cur, now, actor, device, OUTCOMES[outcome], "repair_closed", resolution.strip())
        # The teacher who reported the fault hears it is over (opened_by is their login).
        notify(cur, clock, row[2], "school_ict.repair_finished",
               {"asset_tag": row[0], "model": row[5], "reported": row[3], "symptom": row[4],
                "outcome": Message(f"ict.repair_state.{outcome}"), "resolution": resolution.strip() or "—"})

    store.write(work)


def list_repairs(store: Store, actor: Actor, school_id: int | None = None, *, open_only: bool = False) -> list[Repair]:
    school_id = school_scope(actor, school_id)
    offered_view(store.cursor(), "portal.schools")
    return [Repair(*row) for row in store.query(
        """SELECT r.id, d.asset_tag, s.code, r.model, r.opened_at, r.opened_by, r.symptom, p.pseudonym, r.cause,
                  r.state, r.closed_at, r.resolution
           FROM school_ict_repairs r JOIN school_ict_devices d ON d.id = r.device_id
           JOIN offered_schools s ON s.id = r.school_id LEFT JOIN school_ict_pupils p ON p.id = r.pupil_id
           WHERE (? IS NULL OR r.school_id = ?) AND (NOT ? OR r.state = 'open')
           ORDER BY r.opened_at DESC""", [school_id, school_id, open_only])]


def breakage(store: Store, actor: Actor, school_id: int | None = None) -> list[dict]:
    """Repairs per 100 devices, per fiscal year and term, by school and model.

    The denominator is the school's devices of that model not retired today: the
    registry keeps no census per term, and retired devices no longer break."""
    school_id = school_scope(actor, school_id)
    term, fiscal_year = TERM_SQL.format(col="r.opened_at"), FISCAL_YEAR_SQL.format(col="r.opened_at")
    offered_view(store.cursor(), "portal.schools")
    return store.query_dicts(
        f"""WITH fleet AS (
                SELECT school_id, model, count(*) AS devices FROM school_ict_devices
                WHERE status <> 'retired' AND (? IS NULL OR school_id = ?) GROUP BY ALL),
            broken AS (
                SELECT {fiscal_year} AS fiscal_year, {term} AS term, r.school_id, r.model, count(*) AS repairs
                FROM school_ict_repairs r WHERE (? IS NULL OR r.school_id = ?) GROUP BY ALL)
            SELECT b.fiscal_year, b.term, s.code AS school_code, b.model, b.repairs, f.devices,
                   round(100.0 * b.repairs / f.devices, 1) AS per_100
            FROM broken b JOIN fleet f USING (school_id, model) JOIN offered_schools s ON s.id = b.school_id
            ORDER BY b.fiscal_year DESC, b.term DESC, per_100 DESC, s.code, b.model""",
        [school_id, school_id, school_id, school_id])


def breakage_by_model(store: Store, actor: Actor, school_id: int | None = None) -> list[dict]:
    """Repairs per 100 devices per term and model over the actor's whole scope (the city
    for the board): every school's devices of the model count, broken or not."""
    school_id = school_scope(actor, school_id)
    term, fiscal_year = TERM_SQL.format(col="r.opened_at"), FISCAL_YEAR_SQL.format(col="r.opened_at")
    return store.query_dicts(
        f"""WITH fleet AS (
                SELECT model, count(*) AS devices FROM school_ict_devices
                WHERE status <> 'retired' AND (? IS NULL OR school_id = ?) GROUP BY ALL),
            broken AS (
                SELECT {fiscal_year} AS fiscal_year, {term} AS term, r.model, count(*) AS repairs
                FROM school_ict_repairs r WHERE (? IS NULL OR r.school_id = ?) GROUP BY ALL)
            SELECT b.fiscal_year, b.term, b.model, b.repairs, f.devices,
                   round(100.0 * b.repairs / f.devices, 1) AS per_100
            FROM broken b JOIN fleet f USING (model)
            ORDER BY b.fiscal_year, b.term, b.model""", [school_id, school_id, school_id, school_id])

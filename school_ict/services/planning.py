"""Replacement planning: devices reaching end of support (ChromeOS auto-update
expiration, or the maker's end of support) per school and fiscal year (April–March),
with a cost estimate from the unit prices the board enters."""

from __future__ import annotations

from kernel.actor import Actor
from kernel.errors import InvalidInput
from kernel.store import Store
from school_ict.services.access import require_manage, school_scope
from school_ict.services.registry import KINDS
from school_ict.services.repairs import FISCAL_YEAR_SQL

# What a replacement costs, as a starting point for the form (yen, tax included): the
# national GIGA-school subsidy per pupil device, a teacher tablet, an e-blackboard.
DEFAULT_UNIT_PRICES = {"pupil_tablet": 55_000, "teacher_tablet": 80_000, "e_blackboard": 400_000}


def replacement_plan(store: Store, actor: Actor, unit_prices: dict[str, int], school_id: int | None = None) -> list[dict]:
    """[{fiscal_year, school_code, kind, devices, cost}] for devices still in service."""
    require_manage(actor, school_id if school_id is not None else actor.school_id)
    school_id = school_scope(actor, school_id)
    for kind, price in unit_prices.items():
        if kind not in KINDS or price < 0:
            raise InvalidInput("ict.error.bad_price", kind=kind)
    rows = store.query_dicts(
        f"""SELECT {FISCAL_YEAR_SQL.format(col="d.support_end")} AS fiscal_year, s.code AS school_code,
                   s.name_ja, s.name_en, d.kind, count(*) AS devices
            FROM school_ict_devices d JOIN portal_schools s ON s.id = d.school_id
            WHERE d.support_end IS NOT NULL AND d.status NOT IN ('retired', 'lost')
              AND (? IS NULL OR d.school_id = ?)
            GROUP BY ALL ORDER BY fiscal_year, school_code, d.kind""", [school_id, school_id])
    for row in rows:
        row["cost"] = row["devices"] * unit_prices.get(row["kind"], 0)
    return rows

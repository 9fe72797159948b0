"""Replacement planning: devices reaching end of support (ChromeOS auto-update
expiration, or the maker's end of support) per school and fiscal year (April–March),
with a cost estimate from the unit prices the board enters."""

from __future__ import annotations

from kernel.actor import Actor
from kernel.errors import InvalidInput
from kernel.provided import offered_view
from kernel.store import Store
from school_ict.services.access import require_manage, school_scope
from school_ict.services.registry import KINDS
from school_ict.services.repairs import FISCAL_YEAR_SQL

# What a replacement costs, as a starting point for the form (yen, tax included): the
# national GIGA-school subsidy per pupil device, a teacher tablet, an e-blackboard.
DEFAULT_UNIT_PRICES = {"pupil_tablet": 55_000, "teacher_tablet": 80_000, "e_blackboard": 400_000}


def replacement_plan(store: Store, actor: Actor, unit_prices: dict[str, int], school_id: int | None = None) -> list[dict]:
    """[{fiscal_year, school_id, school_code, name_ja, name_en, kind, devices, cost}] for devices
    still in service."""
    require_manage(actor, school_id if school_id is not None else actor.school_id)
    school_id = school_scope(actor, school_id)
    for kind, price in unit_prices.items():
        if kind not in KINDS or price < 0:
            raise InvalidInput("ict.error.bad_price", kind=kind)
    offered_view(store.cursor(), "portal.schools")
    rows = store.query_dicts(
        f"""SELECT {FISCAL_YEAR_SQL.format(col="d.support_end")} AS fiscal_year, s.id AS school_id,
                   s.code AS school_code,
                   s.name_ja, s.name_en, d.kind, count(*) AS devices
            FROM school_ict_devices d JOIN offered_schools s ON s.id = d.school_id
            WHERE d.support_end IS NOT NULL AND d.status NOT IN ('retired', 'lost')
              AND (? IS NULL OR d.school_id = ?)
            GROUP BY ALL ORDER BY fiscal_year, school_code, d.kind""", [school_id, school_id])
    for row in rows:
        row["cost"] = row["devices"] * unit_prices.get(row["kind"], 0)
    return rows


def plan_years(rows: list[dict]) -> list[int]:
    """Every fiscal year from the first to the last of the plan, those with nothing due too,
    so that an axis never skips a year."""
    years = [r["fiscal_year"] for r in rows]
    return list(range(min(years), max(years) + 1)) if years else []


def by_school_for_chart(rows: list[dict], top: int) -> list[dict]:
    """The plan per fiscal year and school for a chart: the `top` schools with the highest
    total cost by name, every other school summed into one group (school_id None), so that
    a chart never needs more colours than a reader can tell apart.
    [{fiscal_year, school_id, name_ja, name_en, devices, cost}], the named schools first."""
    totals: dict[int, int] = {}
    for r in rows:
        totals[r["school_id"]] = totals.get(r["school_id"], 0) + r["cost"]
    # Ties keep the plan's order (school code): the same schools are named on every run.
    ranked = sorted(totals, key=lambda school: -totals[school])
    named = set(ranked[:top]) if len(ranked) > top else set(ranked)
    # One school left over would be a group of one: name it instead.
    if len(ranked) == top + 1:
        named = set(ranked)
    grouped: dict[tuple[int, int | None], dict] = {}
    for r in rows:
        school = r["school_id"] if r["school_id"] in named else None
        entry = grouped.setdefault((r["fiscal_year"], school), {
            "fiscal_year": r["fiscal_year"], "school_id": school,
            "name_ja": r["name_ja"] if school is not None else None,
            "name_en": r["name_en"] if school is not None else None, "devices": 0, "cost": 0})
        entry["devices"] += r["devices"]
        entry["cost"] += r["cost"]
    order = {school: rank for rank, school in enumerate(ranked)}
    return sorted(grouped.values(), key=lambda e: (e["fiscal_year"], e["school_id"] is None,
                                                   order.get(e["school_id"], 0)))

"""Occupancy per room per month for staff: open blocks, booked blocks, the rate, fees taken."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from facilities.services import vacancy
from facilities.services.catalogue import STAFF
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.csv_export import write_dict_csv
from kernel.store import Store


@dataclass(frozen=True)
class Occupancy:
    month: str
    facility_code: str
    facility_ja: str
    facility_en: str
    room_code: str
    room_ja: str
    room_en: str
    open_blocks: int      # blocks the room could be used (closed days left out)
    booked_blocks: int    # blocks held by a live booking
    rate: float           # booked / open
    paid_yen: int         # fees received for those bookings


def occupancy(store: Store, clock: Clock, actor: Actor, month: str) -> list[Occupancy]:
    """Every room's occupancy in a month ('YYYY-MM'), from the month grids and the bookings."""
    actor.require(*STAFF)
    first = vacancy.parse_month(month)
    days = vacancy.month_days(first)
    paid = {(r,): y for r, y in store.query(
        """SELECT room_id, sum(paid_yen - refund_yen) FROM facilities_bookings
           WHERE day BETWEEN ? AND ? GROUP BY room_id""", [days[0], days[-1]])}
    rows = []
    for grid in vacancy.all_month_grids(store, clock, month):
        facility = grid.facility
        for room in facility.rooms:
            open_blocks = booked = 0
            for block in facility.blocks:
                for state in grid.states[(room.id, block.code)].values():
                    if state != vacancy.CLOSED:
                        open_blocks += 1
                    if state == vacancy.TAKEN:
                        booked += 1
            rows.append(Occupancy(month, facility.code, facility.name_ja, facility.name_en, room.code, room.name_ja,
                                  room.name_en, open_blocks, booked, booked / open_blocks if open_blocks else 0.0,
                                  int(paid.get((room.id,), 0) or 0)))
    return rows


def occupancy_csv(rows: list[Occupancy]) -> str:
    return write_dict_csv(list(Occupancy.__dataclass_fields__),
                          ({**asdict(row), "rate": f"{row.rate:.4f}"} for row in rows), bom=False)


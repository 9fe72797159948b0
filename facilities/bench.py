"""Benchmarks of facility booking (`manabi bench`), printed, never asserted in tests.

- the month grid of every facility at once, on five years of booking history (goal < 50 ms);
- 32 threads racing for 100 slots on a DuckDB file (goal: exactly 100 bookings, no double);
- a lottery draw of 10,000 applications: the pure draw, and the draw with its writes.

Each runs on its own fresh database with only the portal's and this module's tables, so the
demo city that `manabi bench` built for everyone stays as it was.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from facilities import demo
from facilities.services import booking, catalogue, lottery, vacancy
from kernel.actor import Actor, Role
from kernel.clock import TOKYO, Clock, FixedClock
from kernel.errors import ManabiError
from kernel.migrations import migrate
from kernel.module import DemoContext
from kernel.store import Store

STAFF = Actor(user_id=1, login="bench-staff", roles=frozenset({Role.FACILITY_STAFF}))


def _fresh_store(clock: Clock, path: str | Path = ":memory:") -> Store:
    from kernel.migrations import discover

    root = Path(__file__).resolve().parent.parent
    store = Store(path)
    migrate(store, clock, {"portal": discover("portal", root / "portal" / "migrations"),
                           "facilities": discover("facilities", root / "facilities" / "migrations")})
    return store


def _add_users(store: Store, clock: Clock, count: int, first_id: int = 1) -> list[int]:
    now = clock.now()

    def work(cur) -> None:
        cur.executemany(
            "INSERT INTO portal_users (id, login, display_name, created_at) VALUES (?, ?, ?, ?)",
            [(first_id + n, f"bench{first_id + n:06d}", f"Bench {n}", now) for n in range(count)])
        cur.executemany("INSERT INTO portal_user_roles VALUES (?, 'resident')",
                        [(first_id + n,) for n in range(count)])

    store.write(work)
    return list(range(first_id, first_id + count))


def _timed(fn, repeat: int) -> float:
    """Median milliseconds of `repeat` runs."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def month_grid_bench(clock: Clock) -> list[dict]:
    store = _fresh_store(clock)
    _add_users(store, clock, 300)
    store.write(lambda cur: demo.load(DemoContext(cur, clock, random.Random("bench"), "city"), years_back=5))
    bookings = store.scalar("SELECT count(*) FROM facilities_bookings")
    month = f"{clock.now():%Y-%m}"
    ms = _timed(lambda: vacancy.all_month_grids(store, clock, month), 20)
    one = _timed(lambda: vacancy.month_grid(store, clock, catalogue.list_facilities(store)[0].id, month), 20)
    store.close()
    return [
        {"name": f"month grid, every facility ({bookings:,} bookings over 5 years)", "figure": round(ms, 1),
         "unit": "ms", "goal": "< 50"},
        {"name": "month grid, one facility", "figure": round(one, 1), "unit": "ms", "goal": "—"},
    ]


def race_bench(clock: Clock, threads: int = 32, slots: int = 100) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="manabi-facilities-race-") as folder:
        store = _fresh_store(clock, Path(folder) / "race.duckdb")
        users = _add_users(store, clock, threads, first_id=10)
        catalogue.add_equipment(store, clock, STAFF, "whiteboard", "ホワイトボード", "Whiteboard")
        facility_id = catalogue.create_facility(store, clock, STAFF, code="RACE", kind="centre", name_ja="競争",
                                              name_en="Race", lat=33.6, lon=130.7, max_blocks_per_month=1000)
        fees = {(b, r, p): 500 for b in ("am", "pm", "ev") for r in ("resident", "nonresident")
                for p in ("group", "individual")}
        rooms = [catalogue.add_room(store, clock, STAFF, facility_id, code=f"R{n}", name_ja=f"部屋{n}",
                                  name_en=f"Room {n}", kind="room", capacity=10, fees=fees) for n in range(4)]
        first = clock.now().date() + timedelta(days=1)
        wanted = [(room, first + timedelta(days=d), "ev") for room in rooms for d in range(slots // len(rooms))]
        actors = [Actor(user_id=u, login=f"bench{u}", roles=frozenset({Role.RESIDENT})) for u in users]
        barrier = threading.Barrier(threads)
        won = [0] * threads
        refused = [0] * threads

        def racer(n: int) -> None:
            order = wanted[:]
            random.Random(n).shuffle(order)
            barrier.wait()
            for room, day, block in order:
                try:
                    booking.book(store, clock, actors[n], room, day, block)
                    won[n] += 1
                except ManabiError:
                    refused[n] += 1

        started = time.perf_counter()
        workers = [threading.Thread(target=racer, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seconds = time.perf_counter() - started
        bookings = store.scalar("SELECT count(*) FROM facilities_bookings")
        doubles = store.scalar("""SELECT count(*) FROM (SELECT room_id, day, block_code FROM facilities_bookings
                                  GROUP BY ALL HAVING count(*) > 1)""")
        store.close()
    return [
        {"name": f"{threads} threads racing for {slots} slots: bookings", "figure": bookings, "unit": "bookings",
         "goal": f"= {slots}"},
        {"name": "the same race: slots booked twice", "figure": doubles, "unit": "slots", "goal": "= 0"},
        {"name": "the same race: attempts per second", "figure": round(threads * len(wanted) / seconds),
         "unit": "/s", "goal": "—"},
    ]


def draw_bench(applications: int = 10_000, choices: int = 3) -> list[dict]:
    clock = FixedClock(datetime(2026, 11, 27, 10, tzinfo=TOKYO))
    store = _fresh_store(clock)
    applicants = applications // choices + 1
    users = _add_users(store, clock, applicants, first_id=10)
    facility_id = catalogue.create_facility(store, clock, STAFF, code="DRAW", kind="hall", name_ja="抽選",
                                          name_en="Draw", lat=33.6, lon=130.7)
    fees = {(b, r, p): 1000 for b in ("am", "pm", "ev") for r in ("resident", "nonresident")
            for p in ("group", "individual")}
    rooms = [catalogue.add_room(store, clock, STAFF, facility_id, code=f"H{n}", name_ja=f"ホール{n}",
                              name_en=f"Hall {n}", kind="hall", capacity=100, fees=fees) for n in range(5)]
    month = "2027-02"
    lottery.create_month(store, clock, STAFF, month, apply_from=date(2026, 11, 20), apply_until=date(2026, 11, 26),
                         draw_on=date(2026, 11, 27), confirm_by=date(2026, 12, 5), open_on=date(2026, 12, 8),
                         max_choices=choices)
    lottery.mark_slots(store, clock, STAFF, month, rooms, list(range(1, 8)), ["am", "pm", "ev"])
    slots = [(s.room_id, s.day, s.block_code) for s in lottery.slots_of(store, month)]
    rng = random.Random("draw-bench")
    weights = [1 / (1 + n) for n in range(len(slots))]  # a few slots are far more wanted
    rows = []
    for user in users:
        picked: list = []
        while len(picked) < choices:
            slot = rng.choices(slots, weights)[0]
            if slot not in picked:
                picked.append(slot)
        rows += [(month, user, n + 1, *slot, clock.now()) for n, slot in enumerate(picked)]
    rows = rows[:applications]
    store.write(lambda cur: cur.executemany(
        """INSERT INTO facilities_lottery_applications (month, user_id, choice, room_id, day, block_code, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""", rows))
    apps = [lottery.Application(u, c, (r, d, b)) for _, u, c, r, d, b, _ in rows]
    pure = _timed(lambda: lottery.run_draw("bench-seed", apps), 5)
    started = time.perf_counter()
    steps = lottery.draw(store, clock, STAFF, month, seed="bench-seed")
    full = (time.perf_counter() - started) * 1000
    store.close()
    return [
        {"name": f"lottery draw of {len(rows):,} applications (pure)", "figure": round(pure, 1), "unit": "ms",
         "goal": "—"},
        {"name": f"lottery draw with its writes ({len(steps)} winners)", "figure": round(full, 1), "unit": "ms",
         "goal": "< 10000"},
    ]


def run(store: Store, clock: Clock) -> list[dict]:
    return [*month_grid_bench(clock), *race_bench(clock), *draw_bench()]


if __name__ == "__main__":
    for row in run(None, FixedClock(datetime(2026, 11, 27, 10, tzinfo=TOKYO))):
        print(f"{row['name']:<70} {row['figure']:>10} {row['unit']:<9} {row['goal']}")

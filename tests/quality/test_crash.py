"""Crash test (issue 9): writers killed with SIGKILL in the middle of an import,
bookings and loans; after a restart every invariant holds.

- The real server is killed while learning apps post xAPI batches (an import over
  HTTP, all or nothing per batch) and residents race through OPDS to borrow the last
  copies of a title.
- Bookings have no machine route, so a worker process runs the booking service that
  the booking pages call — many threads racing for the same slots — and is killed.
- The server then starts again on the same file, answers /healthz, and the database
  shows no partial batch, no slot booked twice, no license lent beyond its copies.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from kernel.store import Store
from tests.conftest import ROOT, start_server, stop_server

pytestmark = pytest.mark.e2e
BATCH = 200


def _manabi(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(db), *args],
                          cwd=ROOT, capture_output=True, text=True, check=True)


def _statement(batch: int, n: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://manabi.example.jp", "name": f"crash-{n % 50}"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {"objectType": "Activity", "id": f"https://manabi.example.jp/crash/batch/{batch}"},
        "result": {"score": {"scaled": (n % 10) / 10}, "success": n % 3 != 0},
        "timestamp": "2026-11-20T10:00:00+09:00",
    }


def _scarce_title(db: Path) -> tuple[int, int]:
    """A title lent by one-copy licenses only, and its copies."""
    store = Store(db)
    try:
        row = store.query(
            """SELECT title_id, sum(copies) FROM library_ebooks_licenses GROUP BY title_id
               HAVING bool_and(model = 'one_copy') AND sum(copies) <= 3 ORDER BY title_id LIMIT 1""")
        assert row, "the demo has no title with few one-copy licenses"
        return int(row[0][0]), int(row[0][1])
    finally:
        store.close()


def _lending_counts(store: Store, title_id: int) -> tuple[int, int]:
    """(the title's licenses' loans_used, its loan rows): a borrow changes both at once."""
    used = store.scalar("SELECT sum(loans_used) FROM library_ebooks_licenses WHERE title_id = ?", [title_id])
    loans = store.scalar("SELECT count(*) FROM library_ebooks_loans WHERE title_id = ?", [title_id])
    return int(used), int(loans)


BOOKING_WORKER = """
import sys, threading, datetime
from kernel.store import Store
from kernel.clock import SystemClock
from portal.services.accounts import actor_for
from facilities.services import booking, catalogue
store, clock = Store(sys.argv[1]), SystemClock()
rooms = [room for facility in catalogue.list_facilities(store) for room in facility.rooms][:3]
residents = [actor_for(store, uid) for (uid,) in store.query(
    "SELECT u.id FROM portal_users u JOIN portal_user_roles r ON r.user_id = u.id "
    "WHERE r.role = 'resident' ORDER BY u.id LIMIT 16")]
start = clock.now().date() + datetime.timedelta(days=10)
print("ready", flush=True)
def race(actor):
    n = 0
    while True:
        n += 1
        room = rooms[n % len(rooms)]
        day = start + datetime.timedelta(days=n % 5)
        try:
            made = booking.book(store, clock, actor, room.id, day, "pm", purpose="crash test")
            if n % 4 == 0:
                booking.cancel(store, clock, actor, made.id)
        except Exception:
            pass
threads = [threading.Thread(target=race, args=(a,), daemon=True) for a in residents]
for t in threads: t.start()
for t in threads: t.join()
"""


def test_sigkill_mid_import_bookings_and_loans_leaves_every_invariant(demo_db, tmp_path, artifacts):
    db = tmp_path / "crash.duckdb"
    shutil.copy(demo_db, db)
    client = json.loads(_manabi(db, "analytics", "xapi", "clients", "add", "crash-test", "--json").stdout)
    title_id, copies = _scarce_title(db)
    before = Store(db)
    used_before, loans_before = _lending_counts(before, title_id)
    before.close()
    log = tmp_path / "server.log"
    server, base = start_server(db, log)
    stop = threading.Event()
    sent_batches: list[int] = []
    borrow_answers: list[int] = []

    def post_batches(first: int) -> None:
        batch = first
        with httpx.Client(timeout=30, auth=(client["key"], client["secret"]),
                          headers={"X-Experience-API-Version": "1.0.3"}) as http:
            while not stop.is_set():
                try:
                    answer = http.post(f"{base}/xapi/statements",
                                       json=[_statement(batch, n) for n in range(BATCH)])
                    if answer.status_code == 200:
                        sent_batches.append(batch)
                except httpx.HTTPError:
                    return  # the server is gone
                batch += 1000

    def borrow(login: str) -> None:
        with httpx.Client(timeout=30, auth=(login, "manabi-demo")) as http:
            while not stop.is_set():
                try:
                    borrow_answers.append(http.post(f"{base}/opds/books/{title_id}/borrow").status_code)
                except httpx.HTTPError:
                    return

    workers = [threading.Thread(target=post_batches, args=(k,)) for k in range(3)]
    workers += [threading.Thread(target=borrow, args=(f"resident{n:02d}",)) for n in range(1, 13)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(sent_batches) < 3 or 201 not in borrow_answers):
        time.sleep(0.1)
    time.sleep(1.0)  # writers are busy now: batches and borrows are in flight
    stop_server(server, signal.SIGKILL)  # in the middle of whatever is in flight
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    assert sent_batches, "no xAPI batch was stored before the kill"
    assert 201 in borrow_answers, "no loan was made before the kill"

    booker = subprocess.Popen([sys.executable, "-c", BOOKING_WORKER, str(db)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert booker.stdout.readline().strip() == "ready"
    time.sleep(3)
    stop_server(booker, signal.SIGKILL)

    # Restart: the server opens the same file (DuckDB replays its write-ahead log).
    server, _ = start_server(db, log)
    stop_server(server)

    store = Store(db)
    try:
        batches = store.query(
            """SELECT object_id, count(*) FROM analytics_statements
               WHERE object_id LIKE 'https://manabi.example.jp/crash/batch/%' GROUP BY object_id""")
        partial = [(batch, n) for batch, n in batches if n != BATCH]
        assert partial == [], f"partially stored batches: {partial}"
        assert len(batches) >= len(sent_batches)
        over_lent = store.query(
            """SELECT l.id, l.copies, count(o.id) FROM library_ebooks_licenses l
               JOIN library_ebooks_loans o ON o.license_id = l.id
               WHERE l.title_id = ? AND o.returned_at IS NULL GROUP BY l.id, l.copies
               HAVING count(o.id) > l.copies""", [title_id])
        assert over_lent == []
        used_after, loans_after = _lending_counts(store, title_id)
        assert used_after - used_before == loans_after - loans_before > 0, "a borrow was half stored"
        double = store.query(
            """SELECT room_id, day, block_code, count(*) FROM facilities_bookings
               WHERE status IN ('won', 'confirmed') GROUP BY ALL HAVING count(*) > 1""")
        assert double == []
        unslotted = store.query(
            """SELECT b.id FROM facilities_bookings b LEFT JOIN facilities_slots s ON s.booking_id = b.id
               WHERE b.status IN ('won', 'confirmed') AND s.booking_id IS NULL""")
        assert unslotted == []
        crash_bookings = store.scalar("SELECT count(*) FROM facilities_bookings WHERE purpose = 'crash test'")
        (artifacts / "crash.json").write_text(json.dumps({
            "xapi_batches_acknowledged": len(sent_batches), "xapi_batches_stored": len(batches),
            "opds_loans_made": borrow_answers.count(201), "opds_refused": borrow_answers.count(409),
            "title_copies": copies, "bookings_made_before_kill": crash_bookings,
        }, indent=2), encoding="utf-8")
    finally:
        store.close()


_IMPORT_IN_PARTS = """
import sys
from kernel.store import Store
from kernel.clock import SystemClock
from kernel.actor import SYSTEM
from analytics.services import bulk
store = Store(sys.argv[1])
bulk.import_jsonl(store, SystemClock(), SYSTEM, sys.argv[2], part_bytes=int(sys.argv[3]),
                  progress=lambda stage, count: print(stage, count, flush=True))
"""


def test_sigkill_mid_import_in_parts_stores_nothing_and_the_next_import_stores_all(tmp_path):
    """A file read in parts is one transaction: killed after some parts were stored, the
    database holds none of them; the next import stores them all."""
    db = tmp_path / "parts" / "manabi.duckdb"
    _manabi(db, "init")
    path = tmp_path / "year.jsonl"
    path.write_text("".join(json.dumps(_statement(n // 1000, n)) + "\n" for n in range(60_000)))
    part_bytes = path.stat().st_size // 30
    worker = subprocess.Popen([sys.executable, "-c", _IMPORT_IN_PARTS, str(db), str(path), str(part_bytes)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    stored = []
    try:
        for line in worker.stdout:
            stored += [line] if line.startswith("stored") else []
            if len(stored) == 2:  # two parts stored, in the transaction
                break
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert len(stored) == 2, "the import ended before two parts were stored"
    store = Store(db)
    try:
        assert store.scalar("SELECT count(*) FROM analytics_statements") == 0
        assert store.scalar("SELECT count(*) FROM analytics_statement_texts") == 0
    finally:
        store.close()
    finished = subprocess.run([sys.executable, "-c", _IMPORT_IN_PARTS, str(db), str(path), str(part_bytes)],
                              cwd=ROOT, capture_output=True, text=True, check=True)
    assert finished.stdout.splitlines()[-1] == "stored 60000"

"""The jobs the real server runs by itself (kernel.jobs), with MANABI_NOW pinned: a booking past
its payment deadline is released and a lapsed hold offer passes on without any request; the
nightly backup is taken and only the last MANABI_BACKUP_KEEP days are kept; a failing job is
recorded as an error and tried again; the system page shows each job."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from facilities.services import booking, catalogue
from kernel import jobs
from kernel.clock import TOKYO, FixedClock
from kernel.migrations import migrate
from kernel.store import Store
from library_ebooks.services import lending
from portal.modules import known_migrations
from portal.services import system
from tests.conftest import TEST_NOW, start_server, stop_server
from tests.facilities.conftest import FEES, make_user
from tests.library_ebooks.helpers import add_book, resident

NOW = datetime.fromisoformat(TEST_NOW).astimezone(TOKYO)


def wait_for(log: Path, text: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert text in log.read_text(), log.read_text()[-3000:]


def job_row(db: Path, name: str) -> tuple:
    store = Store(db, read_only=True)
    try:
        return store.query("SELECT outcome, message, runs, failures FROM manabi_jobs WHERE name = ?", [name])[0]
    finally:
        store.close()


def test_the_server_releases_overdue_bookings_and_passes_lapsed_offers_on_by_itself(tmp_path):
    db = tmp_path / "jobs.duckdb"
    earlier = FixedClock(NOW - timedelta(days=8))  # what residents did a week and more ago
    store = Store(db)
    try:
        migrate(store, earlier, known_migrations())
        staff = make_user(store, earlier, "staff01", "facility_staff")
        alice = make_user(store, earlier, "alice", "resident")
        facility = catalogue.create_facility(
            store, earlier, staff, code="TEST", kind="centre", name_ja="テスト交流センター", name_en="Test Centre",
            lat=33.64, lon=130.69, closed_weekdays=[], resident_days_ahead=90, nonresident_days_ahead=30,
            max_blocks_per_month=3, cancel_days_before=2)
        room = catalogue.add_room(store, earlier, staff, facility, code="M1", name_ja="会議室", name_en="Meeting room",
                                kind="room", capacity=20, equipment=[], fees=FEES)
        unpaid = booking.book(store, earlier, alice, room, NOW.date() + timedelta(days=20), "am")
        assert unpaid.pay_by < NOW and unpaid.status == "confirmed"

        # A copy returned three days ago was offered to resident 2 for 48 hours; resident 3 waits.
        three_days_ago = FixedClock(NOW - timedelta(days=3))
        title = add_book(store, three_days_ago, copies=1)
        loan = lending.borrow(store, three_days_ago, resident(1), title).id
        lending.place_hold(store, three_days_ago, resident(2), title)
        lending.place_hold(store, three_days_ago, resident(3), title)
        lending.return_loan(store, three_days_ago, resident(1), loan)
        holds = "SELECT user_id, status FROM library_ebooks_holds ORDER BY user_id"
        assert store.query(holds) == [(1002, "offered"), (1003, "waiting")]
    finally:
        store.close()

    log = tmp_path / "server.log"
    process, _ = start_server(db, log)
    try:
        wait_for(log, "job facilities.release done")
        wait_for(log, "job library_ebooks.holds done")
    finally:
        stop_server(process)

    store = Store(db, read_only=True)
    try:
        assert store.query("SELECT status FROM facilities_bookings WHERE id = ?", [unpaid.id]) == [("released",)]
        assert store.query("SELECT count(*) FROM facilities_slots WHERE booking_id = ?", [unpaid.id]) == [(0,)]
        assert store.query(holds) == [(1002, "lapsed"), (1003, "offered")]
        assert store.query("SELECT name, outcome, result FROM manabi_jobs WHERE name IN "
                           "('facilities.release', 'library_ebooks.holds') ORDER BY name") == [
            ("facilities.release", "ok", "1"),
            ("library_ebooks.holds", "ok", '{"titles": 1, "lapsed": 1, "offered": 1}')]
    finally:
        store.close()


def test_the_nightly_backup_is_taken_and_the_last_n_days_kept(fresh_demo_db, tmp_path):
    today = NOW.date()
    backups = tmp_path / "backups"
    for days_ago in range(1, 6):  # five earlier nights' backups
        old = backups / f"manabi-{(today - timedelta(days=days_ago)).isoformat()}"
        old.mkdir(parents=True)
        (old / "manabi-backup.json").write_text("{}")
    (backups / "notes").mkdir()  # not a backup: left alone

    log = tmp_path / "server.log"
    at_three = datetime.combine(today, datetime.min.time(), TOKYO).replace(hour=3)
    process, _ = start_server(fresh_demo_db, log, MANABI_NOW=at_three.isoformat(),
                              MANABI_BACKUP_DIR=str(backups), MANABI_BACKUP_KEEP="3")
    try:
        wait_for(log, "job portal.backup done", 120)
    finally:
        stop_server(process)

    kept = sorted(p.name for p in backups.iterdir())
    assert kept == sorted(["notes", *(f"manabi-{(today - timedelta(days=d)).isoformat()}" for d in range(3))])
    restored = system.restore(backups / f"manabi-{today.isoformat()}", tmp_path / "restored.duckdb")
    # Whole: after the backup the server wrote only its jobs' records (the clustering's mark, and
    # the retention job's record of its run, which comes after the backup the same night).
    after_backup = {"manabi_jobs", "manabi_meta", "portal_retention_runs"}
    now_counts = system.table_counts_at(fresh_demo_db)
    assert {k: v for k, v in restored.items() if k not in after_backup} == {
        k: v for k, v in now_counts.items() if k not in after_backup}
    assert restored["portal_users"] > 0
    assert job_row(fresh_demo_db, "portal.backup")[:2] == ("ok", None)


def test_a_failing_job_is_recorded_as_an_error_and_tried_again(fresh_demo_db, tmp_path):
    blocker = tmp_path / "backups"
    blocker.write_text("a file where the backup folder should be")
    log = tmp_path / "server.log"
    at_three = datetime.combine(NOW.date(), datetime.min.time(), TOKYO).replace(hour=3)
    process, _ = start_server(fresh_demo_db, log, MANABI_NOW=at_three.isoformat(),
                              MANABI_BACKUP_DIR=str(blocker / "nightly"), MANABI_JOBS_CHECK_SECONDS="0.5")
    try:
        wait_for(log, "job portal.backup failed")
        blocker.unlink()  # the operator mends it; the next check runs the job again
        blocker.mkdir()
        wait_for(log, "job portal.backup done", 120)
    finally:
        stop_server(process)
    outcome, message, runs, failures = job_row(fresh_demo_db, "portal.backup")
    assert (outcome, message) == ("ok", None)
    assert failures >= 1 and runs > failures
    assert (blocker / "nightly" / f"manabi-{NOW.date().isoformat()}" / "manabi-backup.json").is_file()


def test_the_system_page_shows_each_job_with_its_outcome(fresh_demo_db, app_for, clock):
    store = Store(fresh_demo_db)
    try:
        def broken(s, c):
            raise OSError("no space left on device")

        jobs.run_job(store, clock, jobs.Job("facilities.release", jobs.every(5), broken))
    finally:
        store.close()
    at = app_for(login="admin", page="../portal/pages/admin_system.py", lang="en")
    assert not at.exception
    table = at.dataframe[0].value
    rows = {row["Job"]: row for row in table.to_dict("records")}
    release = rows["Release bookings past their deadline (unpaid, lottery wins unconfirmed)"]
    assert (release["Schedule"], release["Outcome"], release["Failures"]) == ("Every 5 min", "Error", 1)
    assert release["Detail"] == "OSError: no space left on device"
    assert release["Next run"].startswith("At the next check")
    backup = rows["Nightly backup"]
    assert (backup["Schedule"], backup["Outcome"], backup["Last run"]) == ("Nightly (02:00–05:00)", "Not run yet", "—")
    assert "Reorder the learning records for the dashboards (nightly)" in rows
    assert "Pass lapsed hold offers to the next resident" in rows
    assert "1 job(s) failed on their last run; they are tried again at the next check." in [
        w.value for w in at.warning]
    assert any("Nightly backups are off" in c.value for c in at.caption)

"""Work the server does by itself: jobs on a schedule, run in one background thread of the
server process (which holds the database file, so a cron job could not open it).

A job is declared where its work lives, in one line of a module's SPEC:

    jobs=(Job("facilities.release", every(5), lazy("facilities.services.booking:release_overdue")),)

or, for work that belongs to no module, `kernel.jobs.register(Job(...))` before the server starts.
`run(store, clock)` does the work; what it returns is summed up on the system page.

Schedules: `every(N)` runs every N minutes (counted on the process's monotonic clock, so a
pinned MANABI_NOW does not stop it), the first time when the server starts; `NIGHTLY` runs once a
night between 02:00 and 05:00 Tokyo time (the injected clock), when nobody uses the portal.
A job that fails is recorded with its error and tried again at the next check; one job's
failure never stops the others or the thread. Each run is recorded in `manabi_jobs`: when it
started, how long it took, ok or error with the message.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kernel.clock import TOKYO, Clock
from kernel.config import setting
from kernel.store import Store

NIGHT_WINDOW = (2, 5)  # from 02:00 to before 05:00, Tokyo time
DEFAULT_CHECK_SECONDS = 30.0
MESSAGE_CHARS = 500  # an error's message as kept (a traceback's last line is what helps)

JOBS_TABLE = """
CREATE TABLE IF NOT EXISTS manabi_jobs (
    name         VARCHAR PRIMARY KEY,
    schedule     VARCHAR NOT NULL,
    started_at   TIMESTAMPTZ,
    seconds      DOUBLE,
    outcome      VARCHAR CHECK (outcome IN ('ok', 'error')),
    message      VARCHAR,
    result       VARCHAR,
    last_ok_at   TIMESTAMPTZ,
    runs         INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0
);
"""

_log = logging.getLogger("manabi.jobs")


@dataclass(frozen=True)
class Schedule:
    """`minutes` for a periodic job; None for a nightly one."""

    minutes: float | None = None

    @property
    def nightly(self) -> bool:
        return self.minutes is None

    def describe(self) -> str:
        return "nightly" if self.nightly else f"every {self.minutes:g} min"


NIGHTLY = Schedule()


def every(minutes: float) -> Schedule:
    if minutes <= 0:
        raise ValueError("a job's period is positive")
    return Schedule(minutes)


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    run: Callable[[Store, Clock], Any]
    title_key: str | None = None  # the catalogue key of its name on the system page


@dataclass(frozen=True)
class JobStatus:
    name: str
    title_key: str | None
    schedule: str
    minutes: float | None  # the period of a periodic job; None: nightly
    started_at: datetime | None
    seconds: float | None
    outcome: str | None  # 'ok', 'error', or None: never ran
    message: str | None
    result: str | None
    last_ok_at: datetime | None
    runs: int
    failures: int
    next_run: datetime | None  # None: at the next check (due now, or retrying)


_registered: dict[str, Job] = {}


def register(job: Job) -> None:
    """A job that belongs to no module (kernel work such as sending mail)."""
    _registered[job.name] = job


def registered() -> list[Job]:
    return list(_registered.values())


def check_seconds() -> float:
    """How often the thread looks for due jobs (MANABI_JOBS_CHECK_SECONDS; tests make it short)."""
    try:
        return max(float(setting("jobs_check_seconds", str(DEFAULT_CHECK_SECONDS))), 0.05)
    except ValueError:
        return DEFAULT_CHECK_SECONDS


def _night(now: datetime) -> str | None:
    """The night `now` falls in (its date), or None outside the window."""
    local = now.astimezone(TOKYO)
    return local.date().isoformat() if NIGHT_WINDOW[0] <= local.hour < NIGHT_WINDOW[1] else None


def _status_rows(store: Store) -> dict[str, tuple]:
    rows = store.query("SELECT name, schedule, started_at, seconds, outcome, message, result, last_ok_at, "
                       "runs, failures FROM manabi_jobs")
    return {row[0]: row for row in rows}


def next_run(job: Job, now: datetime, last_started: datetime | None, outcome: str | None,
             last_ok: datetime | None) -> datetime | None:
    """When the job runs next by the injected clock; None: at the next check."""
    if outcome == "error":
        return None
    if job.schedule.nightly:
        local = now.astimezone(TOKYO)
        start_today = local.replace(hour=NIGHT_WINDOW[0], minute=0, second=0, microsecond=0)
        done_tonight = last_ok is not None and _night(last_ok) == _night(now) and _night(now) is not None
        if _night(now) is not None and not done_tonight:
            return None
        return start_today if local < start_today else start_today + timedelta(days=1)
    if last_started is None:
        return None
    return last_started + timedelta(minutes=job.schedule.minutes)


def statuses(store: Store, clock: Clock, jobs: Iterable[Job]) -> list[JobStatus]:
    """Each job with its last run and its next, for the system page."""
    rows = _status_rows(store)
    now = clock.now()
    found = []
    for job in jobs:
        row = rows.get(job.name)
        if row is None:
            row = (job.name, job.schedule.describe(), None, None, None, None, None, None, 0, 0)
        _, _, started, seconds, outcome, message, result, last_ok, runs, failures = row
        found.append(JobStatus(job.name, job.title_key, job.schedule.describe(), job.schedule.minutes, started,
                               seconds, outcome, message, result,
                               last_ok, int(runs), int(failures), next_run(job, now, started, outcome, last_ok)))
    return found


def _summary(result: Any) -> str | None:
    """What a run returned, short: a count for a list, JSON for a small dict."""
    if result is None:
        return None
    if isinstance(result, list | tuple | set):
        return str(len(result))
    try:
        text = json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = str(result)
    return text[:MESSAGE_CHARS]


def run_job(store: Store, clock: Clock, job: Job) -> JobStatus | None:
    """Run one job now and record the run; never raises for the job's own failure."""
    started = clock.now()
    began = time.monotonic()
    outcome, message, result = "ok", None, None
    try:
        result = _summary(job.run(store, clock))
    except Exception as exc:  # noqa: BLE001 - recorded and retried; it must not end the thread
        outcome, message = "error", f"{type(exc).__name__}: {exc}"[:MESSAGE_CHARS]
        _log.exception("job %s failed; it is tried again at the next check", job.name)
    seconds = time.monotonic() - began

    def record(cur) -> None:
        cur.execute(
            """INSERT INTO manabi_jobs (name, schedule, started_at, seconds, outcome, message, result,
                                        last_ok_at, runs, failures)
               VALUES ($name, $schedule, $started, $seconds, $outcome, $message, $result,
                       CASE WHEN $outcome = 'ok' THEN $started END, 1, CASE WHEN $outcome = 'error' THEN 1 ELSE 0 END)
               ON CONFLICT (name) DO UPDATE SET
                   schedule = excluded.schedule, started_at = excluded.started_at, seconds = excluded.seconds,
                   outcome = excluded.outcome, message = excluded.message, result = excluded.result,
                   last_ok_at = coalesce(excluded.last_ok_at, manabi_jobs.last_ok_at),
                   runs = manabi_jobs.runs + 1, failures = manabi_jobs.failures + excluded.failures""",
            {"name": job.name, "schedule": job.schedule.describe(), "started": started, "seconds": seconds,
             "outcome": outcome, "message": message, "result": result},
        )

    try:
        store.write(record)
    except Exception:  # noqa: BLE001 - a store closing under us at shutdown; the next start runs it again
        _log.exception("could not record the run of job %s", job.name)
        return None
    if outcome == "ok":
        _log.warning("job %s done in %.2f s", job.name, seconds)  # warning: the server's default log level
    return statuses(store, clock, [job])[0]


class Scheduler:
    """Runs due jobs, one at a time, in order. Periodic jobs count their period on the
    monotonic clock from their last start in this process; nightly ones ask the injected clock."""

    def __init__(self, store: Store, clock: Clock, jobs: Iterable[Job],
                 ticks: Callable[[], float] = time.monotonic) -> None:
        self.store, self.clock, self.ticks = store, clock, ticks
        self.jobs = list(jobs)
        self._last_start: dict[str, float] = {}
        self._failed: set[str] = set()

    def due(self, job: Job, at: float) -> bool:
        if job.name in self._failed:
            return True
        if job.schedule.nightly:
            night = _night(self.clock.now())
            if night is None:
                return False
            row = _status_rows(self.store).get(job.name)
            last_ok = row[7] if row else None
            return last_ok is None or _night(last_ok) != night
        started = self._last_start.get(job.name)
        return started is None or at - started >= job.schedule.minutes * 60

    def run_due(self) -> list[str]:
        """Run every job that is due now; returns the names of those that ended ok."""
        finished = []
        for job in self.jobs:
            at = self.ticks()
            if not self.due(job, at):
                continue
            self._last_start[job.name] = at
            status = run_job(self.store, self.clock, job)
            if status is not None and status.outcome == "ok":
                self._failed.discard(job.name)
                finished.append(job.name)
            else:
                self._failed.add(job.name)
        return finished


_started: set[str] = set()
_started_lock = threading.Lock()


def start(store: Store, clock: Clock, jobs: Iterable[Job]) -> bool:
    """Check for due jobs now and every check_seconds() in a daemon thread, once per database
    per process (a second call does nothing). Returns whether a thread was started."""
    scheduler = Scheduler(store, clock, jobs)
    with _started_lock:
        if not scheduler.jobs or store.path in _started:
            return False
        _started.add(store.path)
    pause = check_seconds()

    def loop() -> None:
        while True:
            try:
                scheduler.run_due()
            except Exception:  # noqa: BLE001 - e.g. the status table unreadable for a moment
                _log.exception("the job scheduler's check failed")
            time.sleep(pause)

    threading.Thread(target=loop, name="manabi-jobs", daemon=True).start()
    return True

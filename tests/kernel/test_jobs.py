"""Server jobs (kernel.jobs): nightly ones once a night inside 02:00–05:00 Tokyo, periodic ones
every N minutes, each run recorded (ok, or error with its message) and a failing job tried
again at the next check without holding up the others."""

from __future__ import annotations

from datetime import datetime, timedelta

from kernel import jobs
from kernel.clock import TOKYO, FixedClock


def night(clock: FixedClock, hour: int, days: int = 1) -> FixedClock:
    """The clock moved to `hour` o'clock Tokyo, `days` after the pinned day."""
    day = clock.now().astimezone(TOKYO).date() + timedelta(days=days)
    return FixedClock(datetime(day.year, day.month, day.day, hour, 30, tzinfo=TOKYO))


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def test_a_nightly_job_runs_once_a_night_inside_the_window(store, clock):
    runs: list[str] = []
    job = jobs.Job("a", jobs.NIGHTLY, lambda s, c: runs.append(f"{c.now():%d %H}"))
    for hour, days, expected in [(1, 1, []), (2, 1, ["a"]), (3, 1, []), (14, 1, []), (4, 2, ["a"])]:
        at = night(clock, hour, days)
        assert jobs.Scheduler(store, at, [job]).run_due() == expected, (hour, days)
    first, second = night(clock, 2, 1).now(), night(clock, 4, 2).now()
    assert runs == [f"{first:%d %H}", f"{second:%d %H}"]
    [status] = jobs.statuses(store, night(clock, 14, 2), [job])
    assert (status.outcome, status.runs, status.failures) == ("ok", 2, 0)
    assert status.next_run == datetime.combine(second.date() + timedelta(days=1), datetime.min.time(),
                                               TOKYO).replace(hour=2)


def test_a_periodic_job_runs_at_start_then_every_n_minutes(store, clock):
    runs: list[int] = []
    ticks = Ticks()
    job = jobs.Job("p", jobs.every(5), lambda s, c: runs.append(1) or [1, 2, 3])
    scheduler = jobs.Scheduler(store, clock, [job], ticks=ticks)
    assert scheduler.run_due() == ["p"]
    ticks.at += 299
    assert scheduler.run_due() == []
    ticks.at += 1
    assert scheduler.run_due() == ["p"]
    [status] = jobs.statuses(store, clock, [job])
    assert (status.outcome, status.result, status.runs) == ("ok", "3", 2)
    assert status.next_run == clock.now() + timedelta(minutes=5)
    assert status.schedule == "every 5 min" and status.minutes == 5


def test_a_failing_job_is_recorded_tried_again_and_holds_up_no_other(store, clock):
    attempts: list[int] = []

    def flaky(s, c) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("disk full")

    ticks = Ticks()
    flaky_job = jobs.Job("flaky", jobs.every(60), flaky)
    steady = jobs.Job("steady", jobs.every(60), lambda s, c: None)
    scheduler = jobs.Scheduler(store, clock, [flaky_job, steady], ticks=ticks)
    assert scheduler.run_due() == ["steady"]
    failed, ok = jobs.statuses(store, clock, [flaky_job, steady])
    assert (failed.outcome, failed.message, failed.failures) == ("error", "RuntimeError: disk full", 1)
    assert failed.next_run is None  # at the next check, not an hour later
    assert ok.outcome == "ok"
    ticks.at += 1  # the next check: the failed job again, the other not yet due
    assert scheduler.run_due() == ["flaky"]
    [retried] = jobs.statuses(store, clock, [flaky_job])
    assert (retried.outcome, retried.message, retried.runs, retried.failures) == ("ok", None, 2, 1)
    assert len(attempts) == 2


def test_a_job_never_run_is_due_at_the_next_check(store, clock):
    job = jobs.Job("new", jobs.every(5), lambda s, c: None)
    [status] = jobs.statuses(store, clock, [job])
    assert (status.outcome, status.started_at, status.next_run, status.runs) == (None, None, None, 0)

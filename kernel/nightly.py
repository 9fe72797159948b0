"""Work the server does once a night, in the small hours (02:00–05:00, Tokyo) when nobody uses
the portal: modules name it in their spec (`nightly`), e.g. analytics reorders the day's
statements for the dashboards. The server process holds the database file, so such work runs
inside it, in one background thread; a module's job that fails is tried again at the next check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kernel.clock import TOKYO, Clock
from kernel.migrations import get_meta, set_meta
from kernel.store import Store

WINDOW_HOURS = (2, 5)  # from 02:00 to before 05:00, Tokyo time
CHECK_SECONDS = 600
Job = Callable[[Store, Clock], Any]
_log = logging.getLogger("manabi.nightly")
_started: set[str] = set()
_started_lock = threading.Lock()


def _done_key(name: str) -> str:
    return f"nightly.{name}"


def due(store: Store, clock: Clock, name: str) -> bool:
    """Whether job `name` should run now: inside the window and not yet run this night."""
    now = clock.now().astimezone(TOKYO)
    if not WINDOW_HOURS[0] <= now.hour < WINDOW_HOURS[1]:
        return False
    return get_meta(store, _done_key(name)) != now.date().isoformat()


def run_due(store: Store, clock: Clock, jobs: dict[str, Job]) -> list[str]:
    """Run every job that is due; returns the names of those that ran to the end."""
    finished = []
    for name, job in jobs.items():
        if not due(store, clock, name):
            continue
        try:
            job(store, clock)
        except Exception:  # noqa: BLE001 - one module's failure must not stop the others or the thread
            _log.exception("nightly job %s failed; it is tried again at the next check", name)
            continue
        night = clock.now().astimezone(TOKYO).date().isoformat()
        store.write(lambda cur, name=name, night=night: set_meta(cur, _done_key(name), night))
        _log.warning("nightly job %s done", name)  # warning: shown by the server's default log level
        finished.append(name)
    return finished


def start(store: Store, clock: Clock, jobs: dict[str, Job]) -> bool:
    """Check for due jobs now and every CHECK_SECONDS in a daemon thread, once per database
    per process (a second call does nothing). Returns whether a thread was started."""
    with _started_lock:
        if not jobs or store.path in _started:
            return False
        _started.add(store.path)

    def loop() -> None:
        while True:
            run_due(store, clock, jobs)
            time.sleep(CHECK_SECONDS)

    threading.Thread(target=loop, name="manabi-nightly", daemon=True).start()
    return True

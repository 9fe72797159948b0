"""Racing writers on a real DuckDB file: the registry's invariants hold when two teachers
act at the same moment (DuckDB's write-write conflicts, retried by Store.write)."""

from __future__ import annotations

import threading

import pytest

from kernel.actor import SYSTEM
from kernel.errors import ManabiError
from kernel.migrations import migrate
from kernel.store import Store
from portal.modules import known_migrations
from school_ict.services import registry
from tests.school_ict.conftest import build_fleet


@pytest.fixture
def file_store(tmp_path, clock):
    store = Store(tmp_path / "race.duckdb")
    migrate(store, clock, known_migrations())
    yield store
    store.close()


def _race(calls) -> list[object]:
    """Start every call at the same moment; return each one's result or error."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            outcomes[index] = call()
        except ManabiError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("attempt", range(5))
def test_one_tablet_to_two_pupils_at_once_goes_to_exactly_one(file_store, clock, attempt):
    fleet = build_fleet(file_store, clock)
    outcomes = _race([
        lambda: registry.check_out(file_store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1"),
        lambda: registry.check_out(file_store, clock, fleet.admin_a, "PT-A-1", pupil="P-A-2"),
    ])
    winners = [o for o in outcomes if isinstance(o, registry.Device)]
    assert len(winners) == 1, outcomes
    loser = next(o for o in outcomes if isinstance(o, ManabiError))
    assert loser.key in ("ict.error.already_assigned", "error.conflict")
    assert file_store.scalar("SELECT count(*) FROM school_ict_holders") == 1
    events = [e.kind for e in registry.history(file_store, SYSTEM, "PT-A-1")]
    assert events.count("check_out") == 1


@pytest.mark.parametrize("attempt", range(5))
def test_two_tablets_to_one_pupil_at_once_gives_them_one(file_store, clock, attempt):
    fleet = build_fleet(file_store, clock)
    outcomes = _race([
        lambda: registry.check_out(file_store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1"),
        lambda: registry.check_out(file_store, clock, fleet.admin_a, "PT-A-2", pupil="P-A-1"),
    ])
    assert sum(isinstance(o, registry.Device) for o in outcomes) == 1, outcomes
    held = file_store.query("SELECT count(*) FROM school_ict_devices WHERE pupil_id IS NOT NULL")[0][0]
    assert held == 1

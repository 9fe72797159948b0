"""The server reorders the statements itself at night: started at 03:00 (MANABI_NOW), it runs
analytics' nightly job in its background thread (kernel.jobs); the database then records it."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from kernel.migrations import get_meta
from kernel.store import Store
from tests.conftest import TEST_NOW, start_server, stop_server


def test_the_server_clusters_the_statements_at_night(fresh_demo_db, tmp_path):
    log = tmp_path / "server.log"
    night = datetime.fromisoformat(TEST_NOW).date() + timedelta(days=1)  # 03:00 after the demo was made
    process, _ = start_server(fresh_demo_db, log, MANABI_NOW=f"{night}T03:00:00+09:00")
    try:
        deadline = time.monotonic() + 60
        while "job analytics.cluster done" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        stop_server(process)
    assert "job analytics.cluster done" in log.read_text()
    store = Store(fresh_demo_db, read_only=True)
    try:
        assert store.query("SELECT outcome, strftime(last_ok_at, '%Y-%m-%d') FROM manabi_jobs "
                           "WHERE name = 'analytics.cluster'") == [("ok", night.isoformat())]
        assert int(get_meta(store, "analytics.clustered_through_seq")) == store.scalar(
            "SELECT max(seq) FROM analytics_statements")
    finally:
        store.close()

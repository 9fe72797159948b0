"""`manabi` commands while `manabi serve` runs on the same database, clean stops, hot backups.

Every command family runs twice from the start of the same demo city: handed to a running
server (its database is locked), and directly on a stopped copy. Their stdout (JSON compared
as JSON) and exit codes must be equal.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from portal.command_socket import socket_path
from tests.conftest import TEST_NOW, free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
NEXT_MONTH = (datetime.fromisoformat(TEST_NOW).replace(day=1) + timedelta(days=32)).strftime("%Y-%m")


def manabi(db: Path, *args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(db), *args], input=stdin,
                          capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "MANABI_LANG": "en"},
                          # No terminal: a password prompt reads standard input, as in CI.
                          start_new_session=True)


@pytest.fixture(scope="module")
def served_and_stopped(demo_db, tmp_path_factory):
    """(served database, stopped copy, work folder): the same demo city twice, one served."""
    folder = tmp_path_factory.mktemp("serving")
    served, stopped = folder / "served.duckdb", folder / "stopped.duckdb"
    shutil.copy(demo_db, served)
    shutil.copy(demo_db, stopped)
    process, _ = start_server(served, folder / "server.log")
    try:
        yield served, stopped, folder
    finally:
        stop_server(process)


def _same(served_result, stopped_result, command, timings: tuple[str, ...]) -> None:
    assert served_result.returncode == stopped_result.returncode, (command, served_result.stderr,
                                                                   stopped_result.stderr)
    try:
        served_json, stopped_json = json.loads(served_result.stdout), json.loads(stopped_result.stdout)
    except json.JSONDecodeError:
        assert served_result.stdout == stopped_result.stdout, command
        return
    for key in timings:  # a measured duration differs run to run
        served_json.pop(key), stopped_json.pop(key)
    assert served_json == stopped_json, command


def _both(served_and_stopped, *args: str, stdin: str | None = None, cwd: Path = ROOT,
          timings: tuple[str, ...] = ()):
    served, stopped, _ = served_and_stopped
    served_result = manabi(served, *args, stdin=stdin, cwd=cwd)
    stopped_result = manabi(stopped, *args, stdin=stdin, cwd=cwd)
    _same(served_result, stopped_result, args, timings)
    return served_result


def test_the_server_holds_the_database_and_listens_on_a_private_socket(served_and_stopped):
    served, _, _ = served_and_stopped
    with pytest.raises(duckdb.IOException):
        duckdb.connect(str(served)).close()
    path = socket_path(served)
    assert path == served.with_name("served.duckdb.sock")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_users(served_and_stopped):
    assert json.loads(_both(served_and_stopped, "users", "list", "--json").stdout)
    added = _both(served_and_stopped, "users", "add", "hanako", "--name", "飯塚 花子", "--role", "resident",
                  "--password-stdin", "--json", stdin="a long enough password\n")
    assert added.returncode == 0 and json.loads(added.stdout)["login"] == "hanako"
    _both(served_and_stopped, "users", "set-role", "hanako", "resident", "librarian", "--json")
    _both(served_and_stopped, "users", "classes", "teacher01", "--add", "3-2", "--json")
    # Without --password-stdin the password is asked for at the caller's terminal (here: no
    # terminal, so read from the caller's standard input) and asked twice.
    changed = _both(served_and_stopped, "users", "passwd", "hanako", stdin="another good password\n" * 2)
    assert changed.returncode == 0 and "Password of hanako set." in changed.stdout
    # Errors: the same message on stderr, the same exit code.
    wrong = _both(served_and_stopped, "users", "add", "jiro", "--name", "次郎", "--role", "wizard",
                  "--password-stdin", stdin="a long enough password\n")
    assert wrong.returncode == 1 and 'There is no role "wizard"' in wrong.stderr
    assert _both(served_and_stopped, "users", "list", "--no-such-option").returncode == 2


def test_schools(served_and_stopped):
    assert len(json.loads(_both(served_and_stopped, "schools", "list", "--json").stdout)) > 1
    _both(served_and_stopped, "schools", "list")


def test_devices(served_and_stopped, tmp_path):
    _both(served_and_stopped, "devices", "list", "--school", "E01", "--json")
    _both(served_and_stopped, "devices", "repairs", "--json")
    _both(served_and_stopped, "devices", "plan", "--json")
    assert _both(served_and_stopped, "devices", "show", "NO-SUCH-TAG").returncode == 1
    # A file named relative to the caller's folder (not the server's).
    (tmp_path / "export.csv").write_text(
        "Serial Number,Annotated Asset ID,Annotated Location,Model\nNEW-1,PT-E01-9001,飯塚小学校,X\n",
        encoding="utf-8")
    imported = _both(served_and_stopped, "devices", "import", "export.csv", "--json", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    _both(served_and_stopped, "devices", "show", "PT-E01-9001", "--json")
    _both(served_and_stopped, "devices", "check-out", "PT-E01-9001", "--teacher", "teacher01", "--json")


def test_analytics(served_and_stopped):
    _both(served_and_stopped, "analytics", "xapi", "clients", "list", "--json")
    _both(served_and_stopped, "analytics", "cluster", "--json", timings=("seconds",))


def test_ebooks(served_and_stopped):
    titles = json.loads(_both(served_and_stopped, "ebooks", "list", "--json").stdout)
    assert titles
    assert _both(served_and_stopped, "ebooks", "import", "no-such.epub", "--json").returncode != 0


def test_facilities(served_and_stopped):
    facilities = json.loads(_both(served_and_stopped, "facilities", "list", "--json").stdout)
    _both(served_and_stopped, "facilities", "vacancy", "--facility", str(facilities[0]["id"]), "--month", NEXT_MONTH,
          "--json")
    _both(served_and_stopped, "facilities", "release", "--json")
    _both(served_and_stopped, "facilities", "lottery", "draw", "--month", NEXT_MONTH, "--seed", "fixed", "--json")
    _both(served_and_stopped, "facilities", "lottery", "audit", "--month", NEXT_MONTH, "--json")


def test_archive(served_and_stopped, tmp_path):
    _both(served_and_stopped, "archive", "list", "--json")
    imported = _both(served_and_stopped, "archive", "import", "data/archive_import_sample.csv", "--json")
    assert json.loads(imported.stdout)["ok"] is True
    _both(served_and_stopped, "archive", "list", "--status", "draft", "--json")
    # A file the command writes: written by the server, where the caller named it.
    for name in ("served", "stopped"):
        (tmp_path / name).mkdir()
    served, stopped, _ = served_and_stopped
    for db, name in ((served, "served"), (stopped, "stopped")):
        result = manabi(db, "archive", "export", "--format", "csv", "--output", "export.csv", cwd=tmp_path / name)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "served" / "export.csv").read_bytes() == (tmp_path / "stopped" / "export.csv").read_bytes()


def test_meetings(served_and_stopped):
    _both(served_and_stopped, "meetings", "sessions", "--json")
    assert _both(served_and_stopped, "meetings", "verify", "not-a-token").returncode != 0


def test_restore_onto_the_served_database_is_refused_plainly(served_and_stopped, tmp_path):
    served, _, _ = served_and_stopped
    made = manabi(served, "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    refused = manabi(served, "restore", str(tmp_path / "backup"), "--replace")
    assert refused.returncode == 1 and "Stop the server" in refused.stderr


def _table_hashes(db: Path) -> dict[str, tuple[int, str]]:
    """Each table's row count and a hash of its rows (in any order)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [n for (n,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1").fetchall()]
        return {name: con.execute(
            f"SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') "
            f'FROM (SELECT md5(CAST(t AS VARCHAR)) AS h FROM "{name}" t)').fetchone() for name in names}
    finally:
        con.close()


def test_hot_backup_is_one_snapshot_and_restores_whole(demo_db, tmp_path):
    """Accounts are added (a user and their role in one transaction) while a backup runs: the
    backup holds each account whole. A backup taken when the writes have stopped restores
    into a database equal, table by table, to the served one."""
    db = tmp_path / "busy.duckdb"
    shutil.copy(demo_db, db)
    process, _ = start_server(db, tmp_path / "server.log")
    stop = threading.Event()
    added: list[int] = []
    failures: list[str] = []

    def keep_adding() -> None:
        while not stop.is_set():
            result = manabi(db, "users", "add", f"busy{len(added):04d}", "--name", "Busy", "--role", "resident",
                            "--no-password", "--email", f"busy{len(added):04d}@example.jp")
            if result.returncode:
                failures.append(result.stderr)
                return
            added.append(len(added))

    writer = threading.Thread(target=keep_adding)
    try:
        writer.start()
        while len(added) < 2 and not failures:
            time.sleep(0.1)
        during = manabi(db, "backup", str(tmp_path / "during"), "--json")
        stop.set()
        writer.join()
        after = manabi(db, "backup", str(tmp_path / "after"), "--json")
    finally:
        stop.set()
        stop_server(process)
    assert not failures, failures
    assert during.returncode == 0, during.stderr
    assert after.returncode == 0, after.stderr
    for name in ("during", "after"):
        done = manabi(tmp_path / f"{name}.duckdb", "restore", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(tmp_path / "during.duckdb"), read_only=True)
    try:
        busy = con.execute("SELECT count(*) FROM portal_users WHERE login LIKE 'busy%'").fetchone()[0]
        roleless = con.execute("SELECT count(*) FROM portal_users u WHERE NOT EXISTS "
                               "(SELECT 1 FROM portal_user_roles r WHERE r.user_id = u.id)").fetchone()[0]
        orphan_roles = con.execute("SELECT count(*) FROM portal_user_roles r WHERE NOT EXISTS "
                                   "(SELECT 1 FROM portal_users u WHERE u.id = r.user_id)").fetchone()[0]
    finally:
        con.close()
    assert 2 <= busy <= len(added)
    assert (roleless, orphan_roles) == (0, 0)
    assert _table_hashes(tmp_path / "after.duckdb") == _table_hashes(db)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_every_process_and_a_restart_works(fresh_demo_db, tmp_path, sig):
    port = free_port()
    process, _ = start_server(fresh_demo_db, tmp_path / "server.log", port=port)
    assert socket_path(fresh_demo_db).exists()
    started = time.monotonic()
    os.kill(process.pid, sig)  # the server's own process, as a supervisor or Ctrl-C does
    try:
        process.wait(timeout=10)
        while time.monotonic() - started < 10:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("a process of the server's group outlived the signal by 10 s")
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert not socket_path(fresh_demo_db).exists()
    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", port))
    # A command now opens the file itself; a restart on the same port serves again.
    assert manabi(fresh_demo_db, "schools", "list", "--json").returncode == 0
    process, _ = start_server(fresh_demo_db, tmp_path / "server.log", port=port)
    try:
        assert manabi(fresh_demo_db, "schools", "list", "--json").returncode == 0
        again = manabi(fresh_demo_db, "serve", "--port", str(free_port()))
        assert again.returncode == 1 and "already serves" in again.stderr
    finally:
        stop_server(process)


@pytest.mark.parametrize("grace", ["5", "0"])
def test_a_long_command_shows_progress_and_a_stop_finishes_or_rolls_it_back(fresh_demo_db, tmp_path, grace):
    """A handed import streams its progress as it goes; SIGTERM in the middle of it either
    lets it finish (the caller gets its result) or rolls it back whole (the caller is told).
    With no grace for handed commands the stop mostly cuts the import: rolled back."""
    statements = tmp_path / "statements.jsonl"
    with statements.open("w", encoding="utf-8") as out:
        for n in range(60_000):
            out.write(json.dumps({
                "id": f"00000000-0000-4000-8000-{n:012d}",
                "actor": {"objectType": "Agent", "account": {"homePage": "https://manabi.example",
                                                              "name": f"P-E01-{n % 300:04d}"}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
                "object": {"id": f"https://drill.example/q/{n % 50}"},
                "timestamp": (datetime.fromisoformat(TEST_NOW) - timedelta(days=1)).isoformat()}) + "\n")
    con = duckdb.connect(str(fresh_demo_db), read_only=True)
    before = con.execute("SELECT count(*) FROM analytics_statements").fetchone()[0]
    con.close()
    process, _ = start_server(fresh_demo_db, tmp_path / "server.log", MANABI_STOP_GRACE_SECONDS=grace)
    try:
        command = subprocess.Popen(
            [sys.executable, "-m", "portal.cli_main", "--db", str(fresh_demo_db), "analytics", "xapi", "import",
             str(statements), "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "MANABI_LANG": "en"}, start_new_session=True)
        first = command.stderr.readline()  # comes while the import still checks and stores
        assert first.startswith("Read 60,000 lines"), first
        os.kill(process.pid, signal.SIGTERM)
        out, err = command.communicate(timeout=60)
        process.wait(timeout=10)
    finally:
        stop_server(process, signal.SIGKILL)
    con = duckdb.connect(str(fresh_demo_db), read_only=True)
    after = con.execute("SELECT count(*) FROM analytics_statements").fetchone()[0]
    con.close()
    print("handed import at SIGTERM:", "finished" if command.returncode == 0 else "rolled back")
    if command.returncode == 0:
        assert json.loads(out)["added"] == 60_000
        assert after == before + 60_000
    else:
        assert "The server stopped before the command's result came back" in err
        # The answer may be cut after the COMMIT: whole or nothing, never half.
        assert after in (before, before + 60_000)

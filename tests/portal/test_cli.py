"""The `manabi` command, run as a user runs it (a real process on a real file)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer.main

from kernel.store import Store
from portal.cli import app

ROOT = Path(__file__).resolve().parents[2]


def manabi(*args: str, db: Path | None = None, stdin: str | None = None, lang: str = "en"):
    command = [sys.executable, "-m", "portal.cli_main"]
    if db is not None:
        command += ["--db", str(db)]
    return subprocess.run([*command, *args], input=stdin, capture_output=True, text=True, cwd=ROOT,
                          env={**__import__("os").environ, "MANABI_LANG": lang})


def _all_commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


@pytest.mark.parametrize("path", list(_all_commands(typer.main.get_command(app))), ids=" ".join)
def test_every_command_has_help(path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_version():
    result = manabi("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == "manabi 0.1.0"


def test_init_creates_and_reports_the_schema(tmp_path):
    db = tmp_path / "new" / "m.duckdb"
    result = manabi("init", "--json", db=db)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"]["portal"] >= 1
    assert db.exists()


def test_users_add_list_set_role_and_passwd(tmp_path):
    db = tmp_path / "u.duckdb"
    added = manabi("users", "add", "taro", "--name", "飯塚 太郎", "--role", "resident", "--json",
                   "--password-stdin", db=db, stdin="a long enough password\n")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["login"] == "taro"
    listed = json.loads(manabi("users", "list", "--json", db=db).stdout)
    assert [(u["login"], u["roles"]) for u in listed] == [("taro", ["resident"])]
    roles = manabi("users", "set-role", "taro", "resident", "librarian", "--json", db=db)
    assert json.loads(roles.stdout)["roles"] == ["librarian", "resident"]
    changed = manabi("users", "passwd", "taro", "--password-stdin", db=db, stdin="another good password\n")
    assert changed.returncode == 0, changed.stderr
    assert "Password of taro set." in changed.stdout


def test_errors_go_to_stderr_with_a_nonzero_exit(tmp_path):
    db = tmp_path / "e.duckdb"
    result = manabi("users", "add", "taro", "--name", "太郎", "--role", "wizard", "--password-stdin",
                    db=db, stdin="a long enough password\n")
    assert result.returncode == 1
    assert result.stdout == ""
    assert 'There is no role "wizard"' in result.stderr
    japanese = manabi("users", "set-role", "nobody", "resident", db=db, lang="ja")
    assert japanese.returncode == 1
    assert "ログインID「nobody」のユーザーはいません。" in japanese.stderr


def test_demo_is_idempotent_and_deterministic(tmp_path):
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    loaded = json.loads(manabi("demo", "--scale", "small", "--json", db=first).stdout)
    assert {s["status"] for s in loaded} == {"loaded"}
    again = json.loads(manabi("demo", "--scale", "small", "--json", db=first).stdout)
    assert {s["status"] for s in again} == {"already"}
    assert manabi("demo", "--scale", "small", db=second).returncode == 0
    other = manabi("demo", "--scale", "city", db=first)
    assert other.returncode == 1 and "small" in other.stderr

    def snapshot(path):
        store = Store(path)
        try:
            return store.query("SELECT login, display_name, school_id FROM portal_users ORDER BY login")
        finally:
            store.close()

    assert snapshot(first) == snapshot(second)
    assert len(snapshot(first)) > 20


def test_demo_refuses_a_database_with_real_accounts(tmp_path):
    db = tmp_path / "real.duckdb"
    manabi("users", "add", "realuser", "--name", "本物", "--role", "resident", "--password-stdin",
           db=db, stdin="a long enough password\n")
    refused = manabi("demo", db=db)
    assert refused.returncode == 1
    assert "real accounts" in refused.stderr


def _table_contents(path: Path) -> dict[str, list[tuple]]:
    store = Store(path)
    try:
        names = [n for (n,) in store.query(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name")]
        return {n: sorted(store.query(f'SELECT * FROM "{n}"'), key=repr) for n in names}
    finally:
        store.close()


def test_backup_and_restore_keep_every_row(demo_db, tmp_path):
    source = tmp_path / "source.duckdb"
    source.write_bytes(demo_db.read_bytes())
    folder = tmp_path / "backup"
    backed = manabi("backup", str(folder), "--json", db=source)
    assert backed.returncode == 0, backed.stderr
    restored_db = tmp_path / "restored.duckdb"
    restored = manabi("restore", str(folder), "--json", db=restored_db)
    assert restored.returncode == 0, restored.stderr
    before, after = _table_contents(source), _table_contents(restored_db)
    assert before.keys() == after.keys()
    for table in before:
        assert before[table] == after[table], table
    assert sum(len(rows) for rows in after.values()) > 50
    # Sequences continue after the highest id: a new account gets a fresh id.
    added = manabi("users", "add", "newcomer", "--name", "新人", "--role", "resident", "--password-stdin",
                   "--json", db=restored_db, stdin="a long enough password\n")
    assert added.returncode == 0, added.stderr


def test_restore_refuses_to_overwrite_without_replace(demo_db, tmp_path):
    source = tmp_path / "s.duckdb"
    source.write_bytes(demo_db.read_bytes())
    folder = tmp_path / "b"
    manabi("backup", str(folder), db=source)
    refused = manabi("restore", str(folder), db=source)
    assert refused.returncode == 1
    assert "--replace" in refused.stderr
    replaced = manabi("restore", str(folder), "--replace", db=source)
    assert replaced.returncode == 0, replaced.stderr
    assert (tmp_path / "s.duckdb.before-restore").exists()


def test_backup_refuses_a_folder_with_files(tmp_path, demo_db):
    source = tmp_path / "s.duckdb"
    source.write_bytes(demo_db.read_bytes())
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    refused = manabi("backup", str(tmp_path / "full"), db=source)
    assert refused.returncode == 1
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"

"""`manabi lake export` and `manabi lake board` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

MANABI = [sys.executable, "-m", "portal.cli_main"]


def run(*args: str, lang: str = "ja") -> subprocess.CompletedProcess:
    return subprocess.run([*MANABI, *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MANABI_LANG": lang})


def test_export_then_board_then_export_again(fresh_demo_db, tmp_path):
    lake = tmp_path / "lake"
    first = run("--db", str(fresh_demo_db), "lake", "export", str(lake), "--json")
    assert first.returncode == 0, first.stderr
    exported = json.loads(first.stdout)
    assert exported["municipality"] == "40205" and exported["statements"] > 1000

    again = run("--db", str(fresh_demo_db), "lake", "export", str(lake), lang="en")
    assert again.returncode == 0 and "no new statements" in again.stdout

    figures = run("lake", "board", str(lake), "--view", "mastery", "--json")
    assert figures.returncode == 0, figures.stderr
    result = json.loads(figures.stdout)
    assert result["engine"] == "duckdb" and result["statements"] == exported["statements"]
    assert list(result["views"]) == ["mastery"] and all(r["pupils"] >= 5 for r in result["views"]["mastery"])
    assert json.loads((lake / "_results" / "board.json").read_text())["views"] == result["views"]


def test_mistakes_are_told_with_what_to_do(tmp_path):
    empty = run("lake", "board", str(tmp_path), lang="en")
    assert empty.returncode == 1 and "manabi lake export" in empty.stderr
    engine = run("lake", "board", str(tmp_path), "--engine", "presto", lang="en")
    assert engine.returncode == 1 and "duckdb, spark" in engine.stderr

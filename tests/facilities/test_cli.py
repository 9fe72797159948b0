"""`manabi facilities ...` on a copy of the demo city."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from portal.cli import app
from portal.runtime import forget_runtimes


@pytest.fixture
def manabi(fresh_demo_db, monkeypatch):
    monkeypatch.setenv("MANABI_LANG", "ja")
    forget_runtimes()
    runner = CliRunner()

    def call(*args: str):
        return runner.invoke(app, ["--db", str(fresh_demo_db), *args])

    yield call
    forget_runtimes()


def test_list_json_has_the_citys_facilities_and_rooms(manabi):
    result = manabi("facilities", "list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    names = [f["name_ja"] for f in data]
    assert names[0] == "中央公民館" and "いいづかスポーツ・リゾート テニスコート" in names
    assert sum(f["kind"] == "centre" for f in data) == 12
    assert all(f["rooms"] and len(f["blocks"]) == 3 for f in data)


def test_vacancy_json_and_text(manabi):
    result = manabi("facilities", "vacancy", "--facility", "HALL", "--month", "2027-01", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["facility"]["code"] == "HALL"
    states = {s for slot in data["slots"] for s in slot["days"].values()}
    assert states <= {"free", "taken", "closed", "lottery", "past"} and "closed" in states
    assert len(data["slots"][0]["days"]) == 31
    text = manabi("facilities", "vacancy", "--facility", "HALL", "--month", "2027-01")
    assert "中央公民館 2027-01" in text.stdout


def test_errors_are_catalogue_errors(manabi):
    # The root command (portal.cli.main) prints these on stderr with exit code 1.
    result = manabi("facilities", "vacancy", "--facility", "NOPE", "--month", "2027-01")
    assert result.exit_code == 1 and result.exception.key == "facilities.unknown_facility"
    result = manabi("facilities", "vacancy", "--facility", "HALL", "--month", "January")
    assert result.exit_code == 1 and result.exception.key == "facilities.bad_month"


def test_lottery_draw_refuses_before_the_draw_day_then_draws_and_audits(manabi, monkeypatch, fresh_demo_db):
    import duckdb

    with duckdb.connect(str(fresh_demo_db), read_only=True) as con:
        month, draw_on = con.execute("SELECT month, draw_on FROM facilities_lottery_months").fetchone()
    early = manabi("facilities", "lottery", "draw", "--month", month)
    assert early.exit_code == 1 and early.exception.key == "lottery.too_early"
    forget_runtimes()
    monkeypatch.setenv("MANABI_NOW", f"{draw_on.isoformat()}T09:00:00+09:00")
    drawn = manabi("facilities", "lottery", "draw", "--month", month, "--seed", "cli-seed", "--json")
    assert drawn.exit_code == 0, drawn.output
    data = json.loads(drawn.stdout)
    assert data["seed"] == "cli-seed" and data["winners"] == len(data["steps"]) > 0
    assert all(step["winner"] == step["applicants"][0] for step in data["steps"])
    audit = json.loads(manabi("facilities", "lottery", "audit", "--month", month, "--json").stdout)
    assert audit["replay_matches"] is True
    again = manabi("facilities", "lottery", "draw", "--month", month)
    assert again.exit_code == 1 and again.exception.key == "lottery.already_drawn"


def test_every_command_has_help(manabi):
    for command in (["list"], ["vacancy"], ["release"], ["lottery", "draw"], ["lottery", "audit"]):
        result = manabi("facilities", *command, "--help")
        assert result.exit_code == 0 and "Usage" in result.stdout

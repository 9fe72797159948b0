"""`manabi devices …` through the real root command, on a copy of the small demo city."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from portal.cli import app
from portal.runtime import forget_runtimes
from tests.conftest import TEST_NOW


@pytest.fixture
def manabi(fresh_demo_db):
    runner = CliRunner()

    def run(*args: str):
        forget_runtimes()
        result = runner.invoke(app, ["--db", str(fresh_demo_db), *args])
        forget_runtimes()
        return result

    return run


def test_list_filters_by_school_and_status_as_json(manabi):
    result = manabi("devices", "list", "--school", "E01", "--status", "assigned", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and {r["school"] for r in rows} == {"E01"} and {r["status"] for r in rows} == {"assigned"}


def test_schools_lists_codes_and_names(manabi):
    rows = json.loads(manabi("devices", "schools", "--json").output)
    e01 = next(r for r in rows if r["code"] == "E01")
    assert (e01["name_ja"], e01["name_en"]) == ("飯塚小学校", "Iizuka Elementary School")


def test_import_reports_every_bad_row_as_json_and_exits_1(manabi, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("Serial Number,Annotated Asset ID,Annotated Location,Model,Auto Update Expiration\n"
                      "NEW-1,PT-E01-9001,E01,Chromebook X,2029-06\n"
                      "NEW-2,PT-E01-9002,Atlantis,Chromebook X,2029-06\n"
                      "NEW-3,PT-E01-9003,E01,Chromebook X,someday\n", encoding="utf-8")
    result = manabi("devices", "import", str(export), "--format", "google-admin", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["rows"] == 3
    assert [e["line"] for e in report["errors"]] == [3, 4]
    assert "Atlantis" in report["errors"][0]["reason"]
    # Nothing was stored.
    assert manabi("devices", "show", "PT-E01-9001").exit_code == 1


def test_import_dry_run_then_for_real(manabi, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("Serial Number,Annotated Asset ID,Annotated Location,Model\nNEW-1,PT-E01-9001,飯塚小学校,X\n",
                      encoding="utf-8")
    dry = json.loads(manabi("devices", "import", str(export), "--dry-run", "--json").output)
    assert dry == {"ok": True, "rows": 1, "errors": [], "created": 1, "updated": 0, "dry_run": True}
    assert manabi("devices", "show", "PT-E01-9001").exit_code == 1
    assert json.loads(manabi("devices", "import", str(export), "--json").output)["created"] == 1
    shown = json.loads(manabi("devices", "show", "PT-E01-9001", "--json").output)
    assert shown["device"]["status"] == "in_stock" and shown["history"][0]["kind"] == "imported"


def test_check_in_and_out_and_refusal_on_stderr(manabi, fresh_demo_db):
    assert manabi("devices", "check-in", "PT-E01-0001").exit_code == 0
    out = manabi("devices", "check-out", "PT-E01-0001", "--pupil", "P-E01-0001", "--json")
    assert json.loads(out.output)["holder"] == "P-E01-0001"
    # The real command: the refusal is a sentence on stderr, exit code 1.
    again = subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(fresh_demo_db), "devices",
                            "check-out", "PT-E01-0001", "--pupil", "P-E01-0002"],
                           capture_output=True, text=True, env={**os.environ, "MANABI_LANG": "en"})
    assert again.returncode == 1
    assert again.stderr.strip() == "PT-E01-0001 is already with P-E01-0001. Check it in first."


def test_labels_write_a_pdf(manabi, tmp_path):
    out = tmp_path / "labels.pdf"
    result = manabi("devices", "labels", "--out", str(out), "PT-E01-0001", "PT-E01-0002")
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_plan_and_network_as_json(manabi):
    plan = json.loads(manabi("devices", "plan", "--school", "E01", "--pupil-tablet-price", "1000", "--json").output)
    assert plan and {r["school_code"] for r in plan} == {"E01"}
    pupil_rows = [r for r in plan if r["kind"] == "pupil_tablet"]
    assert all(r["cost"] == r["devices"] * 1000 for r in pupil_rows)
    load = json.loads(manabi("devices", "network", "--json").output)
    assert load["target_mbps_per_pupil"] == 0.7 and len(load["schools"]) == 4


def test_usage_import_moves_last_seen(manabi, tmp_path):
    usage = tmp_path / "usage.csv"
    today = TEST_NOW[:10]  # the pinned day: later than any sign of life the demo gave the tablet
    usage.write_text(f"asset_tag,date,active_minutes\nPT-E01-0001,{today},45\n", encoding="utf-8")
    assert json.loads(manabi("devices", "usage-import", str(usage), "--json").output) == {"ok": True, "rows": 1}
    shown = json.loads(manabi("devices", "show", "PT-E01-0001", "--json").output)
    assert shown["device"]["last_seen_at"].startswith(today)

"""`manabi archive …` through the real command line on a copy of the demo database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CC = "http://creativecommons.org/licenses/by/4.0/"


def manabi(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(db), *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_list_prints_every_state_and_filters(fresh_demo_db):
    listed = json.loads(manabi(fresh_demo_db, "archive", "list", "--json").stdout)
    assert {row["status"] for row in listed} == {"draft", "review", "published", "withdrawn"}
    assert set(listed[0]) >= {"id", "identifier", "title_ja", "status"}
    drafts = json.loads(manabi(fresh_demo_db, "archive", "list", "--status", "draft", "--json").stdout)
    assert drafts and {row["status"] for row in drafts} == {"draft"}
    text = manabi(fresh_demo_db, "archive", "list").stdout
    assert "IZK-DEMO-001\t旧伊藤伝右衛門邸 主屋\tpublished" in text
    bad = manabi(fresh_demo_db, "archive", "list", "--status", "lost")
    assert bad.returncode == 1 and "lost" in bad.stderr


def test_import_reports_bad_lines_as_json_and_stores_nothing(fresh_demo_db, tmp_path):
    csv_file = tmp_path / "items.csv"
    csv_file.write_text("identifier,title_ja,type,rights\n"
                        f"IZK-CLI-1,良い,object,{CC}\n"
                        "IZK-CLI-2,,object,nonsense\n", encoding="utf-8")
    result = manabi(fresh_demo_db, "archive", "import", str(csv_file), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["rows"] == 2
    assert {e["line"] for e in report["errors"]} == {3} and len(report["errors"]) == 2
    listed = json.loads(manabi(fresh_demo_db, "archive", "list", "--json").stdout)
    assert "IZK-CLI-1" not in {row["identifier"] for row in listed}


def test_import_with_images_folder(fresh_demo_db, tmp_path):
    from tests.archive.helpers import png

    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(png())
    csv_file = tmp_path / "items.csv"
    csv_file.write_text(f"identifier,title_ja,type,rights,image,status\nIZK-CLI-9,写真,photograph,{CC},a.png,review\n",
                        encoding="utf-8")
    result = manabi(fresh_demo_db, "archive", "import", str(csv_file), "--images", str(tmp_path / "pics"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    # Without --images the same file names a missing image (the identifier is now taken too).
    again = manabi(fresh_demo_db, "archive", "import", str(csv_file))
    assert again.returncode == 1 and "a.png" in again.stderr and "2" in again.stderr


def test_export_json_has_published_items_only(fresh_demo_db):
    out = manabi(fresh_demo_db, "archive", "export", "--format", "json", "--base-url", "https://manabi.example")
    records = json.loads(out.stdout)["records"]
    listed = json.loads(manabi(fresh_demo_db, "archive", "list", "--status", "published", "--json").stdout)
    assert sorted(r["dcterms:identifier"] for r in records) == sorted(row["identifier"] for row in listed)
    assert records[0]["edm:isShownAt"].startswith("https://manabi.example/archive?item=")


def test_help_everywhere():
    for args in (["archive", "--help"], ["archive", "list", "--help"], ["archive", "import", "--help"],
                 ["archive", "export", "--help"]):
        result = subprocess.run([sys.executable, "-m", "portal.cli_main", *args], capture_output=True, text=True,
                                cwd=ROOT)
        assert result.returncode == 0 and "Usage" in result.stdout

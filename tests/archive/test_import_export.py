"""CSV import (all or nothing, every bad row named by line) and exports of published metadata."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from archive.services import exports, importer, places_sets, reading
from kernel.actor import ANONYMOUS, SYSTEM
from kernel.errors import ImportRejected, PermissionDenied
from tests.archive.helpers import ADMIN, CURATOR, RESIDENT, make_item, png

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "archive_import_sample.csv"
CC = "http://creativecommons.org/licenses/by/4.0/"
HEADER = "identifier,title_ja,title_en,type,date,description_ja,subjects_ja,latitude,longitude,place_ja,rights,image,status,set\n"


def run(store, clock, body: str, actor=CURATOR, images: dict | None = None, encoding="utf-8"):
    return importer.import_csv(store, clock, actor, body.encode(encoding),
                               read_image=(images or {}).get if images is not None else None)


def test_the_sample_file_imports(store, clock):
    places_sets.create_set(store, CURATOR, "nagasaki-kaido", "長崎街道")
    places_sets.create_set(store, CURATOR, "coal-mining", "炭鉱")
    result = importer.import_csv(store, clock, CURATOR, SAMPLE.read_bytes())
    assert result.rows == 2
    found = {s.identifier: s for s in reading.list_items(store, CURATOR)}
    assert found["IZK-CSV-001"].status == "draft" and found["IZK-CSV-002"].status == "review"
    assert found["IZK-CSV-001"].latitude == pytest.approx(33.6445)
    assert (found["IZK-CSV-001"].year_from, found["IZK-CSV-001"].year_to) == (1778, 1868)


def test_a_good_file_with_images_stores_everything(store, clock):
    places_sets.create_set(store, CURATOR, "tateiwa", "立岩遺跡")
    body = HEADER + (
        "IZK-C-1,石包丁,Stone knife,object,弥生時代,<p>説明</p>,石包丁|出土品,33.65,130.68,立岩遺跡,"
        f"{CC},knife.png,review,tateiwa\n"
        f"IZK-C-2,甕棺,,object,弥生時代,,,,,,{CC},,draft,\n"
    )
    result = run(store, clock, body, images={"knife.png": png()})
    assert result.rows == 2
    knife = reading.get_item(store, CURATOR, result.item_ids[0])
    assert knife.subjects_ja == ["石包丁", "出土品"] and knife.status == "review"
    assert knife.place.name_ja == "立岩遺跡" and len(knife.images) == 1
    assert [s.slug for s in knife.sets] == ["tateiwa"]
    assert [e.action for e in reading.history(store, CURATOR, knife.id)][-1] == "imported"


def test_a_bad_file_stores_nothing_and_names_every_bad_line(store, clock):
    make_item(store, clock, identifier="IZK-TAKEN")
    body = HEADER + (
        f"IZK-C-1,良い行,,object,明治45年,,,,,,{CC},,draft,\n"  # line 2: fine
        f"IZK-C-2,,,vase,大正20年,,,,,,{CC},,draft,\n"  # line 3: no title, bad type, impossible date
        "IZK-C-1,重複,,object,,,,,,,http://example.org/licence,,draft,\n"  # line 4: duplicate, bad rights
        f"IZK-TAKEN,既存,,object,,,,95,130,,{CC},,finished,nowhere\n"  # line 5: taken, coords, status, set
        f"IZK-C-5,画像,,object,,,,,,,{CC},missing.png,draft,\n"  # line 6: image not supplied
        "IZK-C-6,列が足りない\n"  # line 7: wrong number of cells
    )
    with pytest.raises(ImportRejected) as caught:
        run(store, clock, body, images={})
    by_line: dict[int, set[str]] = {}
    for problem in caught.value.problems:
        by_line.setdefault(problem.row, set()).add(problem.key.rsplit(".", 1)[1])
    assert by_line == {
        3: {"title_required", "bad_type", "bad_date"},
        4: {"duplicate", "bad_rights"},
        5: {"identifier_taken", "bad_coordinates", "bad_status", "no_set"},
        6: {"image_missing"},
        7: {"bad_width"},
    }
    assert [s.identifier for s in reading.list_items(store, CURATOR)] == ["IZK-TAKEN"]


def test_a_quoted_newline_keeps_line_numbers_right(store, clock):
    body = ("identifier,title_ja,type,rights,description_ja\n"
            f'IZK-Q-1,一行目,object,{CC},"二行に\nわたる説明"\n'
            f"IZK-Q-2,,object,{CC},\n")
    with pytest.raises(ImportRejected) as caught:
        run(store, clock, body)
    assert [p.row for p in caught.value.problems] == [4]


def test_missing_columns_and_shift_jis(store, clock):
    with pytest.raises(ImportRejected) as caught:
        run(store, clock, "identifier,title_ja\nIZK-1,題\n")
    assert caught.value.problems[0].row == 1 and "type" in caught.value.problems[0].params["columns"]
    result = run(store, clock, f"identifier,title_ja,type,rights\nIZK-SJ-1,飯塚宿,document,{CC}\n", encoding="cp932")
    assert reading.get_item(store, CURATOR, result.item_ids[0]).title_ja == "飯塚宿"


def test_only_the_admin_may_import_straight_to_published(store, clock):
    body = f"identifier,title_ja,type,rights,status\nIZK-P-1,公開,object,{CC},published\n"
    with pytest.raises(ImportRejected) as caught:
        run(store, clock, body)
    assert caught.value.problems[0].key == "archive.import.cannot_publish"
    with pytest.raises(PermissionDenied):
        run(store, clock, body, actor=RESIDENT)
    with pytest.raises(PermissionDenied):  # the administrator publishes but does not create items
        run(store, clock, body, actor=ADMIN)
    result = run(store, clock, body, actor=SYSTEM)
    assert reading.get_item(store, ANONYMOUS, result.item_ids[0]).status == "published"


def test_scripts_in_csv_cells_are_made_inert(store, clock):
    body = ("identifier,title_ja,type,rights,description_ja\n"
            f'IZK-X-1,"<script>alert(1)</script>石包丁",object,{CC},"<img src=x onerror=alert(1)>説明"\n')
    item = reading.get_item(store, CURATOR, run(store, clock, body).item_ids[0])
    assert item.title_ja == "石包丁" and "onerror" not in item.description_ja


def test_exports_hold_published_items_only(store, clock):
    make_item(store, clock, "published", "IZK-E-1")
    make_item(store, clock, "draft", "IZK-E-2")
    make_item(store, clock, "withdrawn", "IZK-E-3")
    records = json.loads(exports.to_json(store, "http://x.test"))["records"]
    assert [r["dcterms:identifier"] for r in records] == ["IZK-E-1"]
    assert records[0]["edm:rights"] == CC
    assert records[0]["iiif:manifest"].startswith("http://x.test/iiif/")
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(store, "http://x.test").lstrip("\ufeff"))))
    assert [r["dcterms:identifier"] for r in rows] == ["IZK-E-1"]
    assert rows[0]["dcterms:subject@ja"] == "炭鉱王|近代和風建築"

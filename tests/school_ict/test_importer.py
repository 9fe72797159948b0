"""The MDM importer: a Google Admin export, every bad-row kind, all or nothing."""

from __future__ import annotations

import pytest

from kernel.errors import ImportRejected
from school_ict.services import importer, registry

GOOGLE_HEADER = ("Serial Number,Annotated Asset ID,Annotated User,Annotated Location,Org Unit Path,Model,"
                 "OS Version,Last Sync,Auto Update Expiration,Status\n")


def google(*rows: str) -> str:
    return GOOGLE_HEADER + "".join(r + "\n" for r in rows)


def test_google_admin_export_creates_and_updates_by_serial(store, clock, fleet):
    data = google(
        "SA1,PT-A-1,p-a-1@school.example,,/Schools/E01,Chromebook X,128.0.6613.1,2026-11-25T08:15:32.000Z,2028-06,ACTIVE",
        "NEW1,PT-A-101,,飯塚小学校,/Schools,Lenovo 300e Chromebook Gen 2,128.0.6613.1,2026/11/26 09:00,2027/06/30,ACTIVE",
        "NEW2,PT-A-102,,e01,,NEC Chromebook Y2,,,,ACTIVE",
    )
    result = importer.import_devices(store, clock, fleet.admin_a, data.encode(), "google-admin")
    assert (result.ok, result.rows, result.created, result.updated) == (True, 3, 2, 1)
    old = registry.get_device(store, fleet.admin_a, "PT-A-1")
    assert str(old.support_end) == "2028-06-01" and old.os_version == "128.0.6613.1"
    assert old.last_seen_at.isoformat() == "2026-11-25T17:15:32+09:00"
    assert old.annotated_user == "p-a-1@school.example"
    new = registry.get_device(store, fleet.admin_a, "PT-A-101")
    assert (new.status, new.kind, str(new.support_end)) == ("in_stock", "pupil_tablet", "2027-06-30")
    assert new.last_seen_at.isoformat() == "2026-11-26T09:00:00+09:00"
    assert registry.history(store, fleet.admin_a, "PT-A-101")[0].kind == "imported"


def test_every_bad_row_is_named_and_nothing_is_stored(store, clock, fleet):
    data = google(
        "OK1,PT-A-201,,E01,,Chromebook X,,,,",                       # line 2: fine
        "OK1,PT-A-202,,E01,,Chromebook X,,,,",                       # line 3: serial again
        "BAD3,PT-A-203,,Nowhere School,,Chromebook X,,,,",           # line 4: unknown school
        "BAD4,PT-A-204,,E01,,Chromebook X,,yesterday,,",             # line 5: unreadable last sync
        "BAD5,PT-A-205,,E01,,Chromebook X,,,June 2027,",             # line 6: unreadable AUE
        ",PT-A-206,,E01,,Chromebook X,,,,",                          # line 7: no serial
        "BAD7,PT-A-1,,E01,,Chromebook X,,,,",                        # line 8: tag of another device
        "BAD8,,,E01,,Chromebook X,,,,",                              # line 9: new device without a tag
        "BAD9,PT-A-209,,,,Chromebook X,,,,",                         # line 10: new device without a school
        "SB1,PT-B-1,,E01,,Chromebook X,,,,",                         # line 11: device of another school
        "BAD11,PT-A-201,,E01,,Chromebook X,,,,",                     # line 12: tag again
    )
    before = store.scalar("SELECT count(*) FROM school_ict_devices")
    with pytest.raises(ImportRejected) as caught:
        importer.import_devices(store, clock, fleet.board, data, "google-admin")
    found = {(p.row, p.key) for p in caught.value.problems}
    assert found == {
        (3, "ict.import.duplicate_serial"), (4, "ict.import.unknown_school"), (5, "ict.import.bad_date"),
        (6, "ict.import.bad_date"), (7, "ict.import.no_serial"), (8, "ict.import.tag_taken"),
        (9, "ict.import.no_tag"), (10, "ict.import.no_school"), (11, "ict.import.other_school_device"),
        (12, "ict.import.duplicate_tag"),
    }
    assert caught.value.params["rows"] == 11
    assert store.scalar("SELECT count(*) FROM school_ict_devices") == before


def test_school_admin_cannot_import_another_schools_devices(store, clock, fleet):
    with pytest.raises(ImportRejected) as caught:
        importer.import_devices(store, clock, fleet.admin_a, google("NB1,PT-B-9,,E02,,Chromebook X,,,,"),
                                "google-admin")
    assert [(p.row, p.key) for p in caught.value.problems] == [(2, "ict.import.not_your_school")]


def test_dry_run_stores_nothing(store, clock, fleet):
    result = importer.import_devices(store, clock, fleet.board, google("N1,PT-A-301,,E01,,Chromebook X,,,,"),
                                     "google-admin", dry_run=True)
    assert (result.ok, result.created) == (True, 1)
    assert store.scalar("SELECT count(*) FROM school_ict_devices WHERE serial = 'N1'") == 0


def test_generic_format_with_kinds_and_dates(store, clock, fleet):
    data = ("asset_tag,serial,kind,model,school,purchase_date,warranty_end,support_end,cart\n"
            "EB-A-9,EA9,e_blackboard,EPSON EB-1485FT,Iizuka Elementary School,2021-03-01,2026-02-28,2029-03-31,\n"
            "X-1,X1,phone,Phone,E01,,,,\n")
    with pytest.raises(ImportRejected) as caught:
        importer.import_devices(store, clock, fleet.board, data, "generic")
    assert [(p.row, p.key) for p in caught.value.problems] == [(3, "ict.import.bad_kind")]
    importer.import_devices(store, clock, fleet.board, data.splitlines(keepends=True)[0] + data.splitlines()[1],
                            "generic")
    assert registry.get_device(store, fleet.board, "EB-A-9").kind == "e_blackboard"


def test_a_file_without_a_serial_column_is_refused_on_line_1(store, clock, fleet):
    with pytest.raises(ImportRejected) as caught:
        importer.import_devices(store, clock, fleet.board, "Model,Asset\nX,Y\n", "google-admin")
    assert [(p.row, p.key) for p in caught.value.problems] == [(1, "ict.import.no_serial_column")]

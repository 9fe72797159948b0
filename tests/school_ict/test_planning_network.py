"""Replacement planning, network load, usage and labels."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from kernel.errors import ImportRejected, InvalidInput, PermissionDenied
from school_ict.services import dashboard, labels, network, planning, registry, usage
from tests.conftest import TEST_NOW


def _support_end(store, tag: str, when: str) -> None:
    store.cursor().execute("UPDATE school_ict_devices SET support_end = ? WHERE asset_tag = ?", [when, tag])


def test_replacement_plan_counts_by_fiscal_year_and_costs(store, clock, fleet):
    _support_end(store, "PT-A-1", "2027-03-31")  # FY2026 (April 2026 – March 2027)
    _support_end(store, "PT-A-2", "2027-04-01")  # FY2027
    _support_end(store, "PT-A-3", "2027-06-30")  # FY2027
    _support_end(store, "PT-A-4", "2027-06-30")
    registry.set_status(store, clock, fleet.admin_a, "PT-A-4", "retired")  # retired: not replaced
    _support_end(store, "EB-A-1", "2029-01-10")  # FY2028
    _support_end(store, "PT-B-1", "2027-05-01")
    plan = planning.replacement_plan(store, fleet.board, {"pupil_tablet": 55_000, "e_blackboard": 400_000})
    got = [(r["fiscal_year"], r["school_code"], r["kind"], r["devices"], r["cost"]) for r in plan]
    assert got == [(2026, "E01", "pupil_tablet", 1, 55_000), (2027, "E01", "pupil_tablet", 2, 110_000),
                   (2027, "E02", "pupil_tablet", 1, 55_000), (2028, "E01", "e_blackboard", 1, 400_000)]
    own = planning.replacement_plan(store, fleet.admin_a, {"pupil_tablet": 1})
    assert {r["school_code"] for r in own} == {"E01"}
    with pytest.raises(PermissionDenied):
        planning.replacement_plan(store, fleet.teacher_a, {"pupil_tablet": 1})
    with pytest.raises(InvalidInput):
        planning.replacement_plan(store, fleet.board, {"pupil_tablet": -5})


# Samples of yesterday (the day before the pinned "now"), within the 30 days the peaks look at.
YESTERDAY = (datetime.fromisoformat(TEST_NOW) - timedelta(days=1)).date()
SAMPLES = f"""school,timestamp,mbps_down,mbps_up
E01,{YESTERDAY} 10:00,3.0,1.0
E01,{YESTERDAY} 11:00,5.0,1.5
E02,{YESTERDAY} 10:00,0.4,0.1
"""


def test_network_peaks_per_pupil_against_the_target(store, clock, fleet):
    assert network.import_samples(store, fleet.board, SAMPLES) == 3
    network.set_target(store, fleet.board, 1.0)
    rows = {r["code"]: r for r in network.peaks(store, clock, fleet.board)}
    # E01 has 4 pupils: a 5 Mbps peak is 1.25 Mbps per pupil, over a 1.0 target; E02 (2 pupils) 0.2.
    assert (rows["E01"]["peak_per_pupil"], rows["E01"]["over_target"]) == (1.25, True)
    assert (rows["E02"]["peak_per_pupil"], rows["E02"]["over_target"]) == (0.2, False)
    assert [r["code"] for r in network.peaks(store, clock, fleet.admin_a)] == ["E01"]
    day = network.school_day(store, fleet.admin_a, fleet.school_a, YESTERDAY)
    assert [s["mbps_down"] for s in day] == [3.0, 5.0]
    with pytest.raises(PermissionDenied):
        network.school_day(store, fleet.admin_a, fleet.school_b, YESTERDAY)
    with pytest.raises(PermissionDenied):
        network.set_target(store, fleet.admin_a, 2.0)


def test_network_import_names_bad_lines_and_stores_nothing(store, clock, fleet):
    bad = SAMPLES + "Z99,2026-11-26 10:00,1,1\nE01,someday,1,1\nE01,2026-11-26 12:00,fast,1\n"
    with pytest.raises(ImportRejected) as caught:
        network.import_samples(store, fleet.board, bad)
    assert [(p.row, p.key) for p in caught.value.problems] == [
        (5, "ict.import.unknown_school"), (6, "ict.import.bad_date"), (7, "ict.network.bad_number")]
    assert store.scalar("SELECT count(*) FROM school_ict_network_samples") == 0


def test_usage_per_grade_and_week_and_last_seen(store, clock, fleet):
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-2", pupil="P-A-3")
    csv = "asset_tag,date,active_minutes\nPT-A-1,2026-11-24,60\nPT-A-2,2026-11-24,120\nPT-A-1,2026-11-25,90\n"
    assert usage.import_usage(store, fleet.admin_a, csv) == 3
    weekly = usage.usage_by_grade_week(store, fleet.teacher_a)
    assert [(str(w["week"])[:10], w["grade"], w["minutes_per_day"]) for w in weekly] == [("2026-11-23", 3, 90.0)]
    assert registry.get_device(store, fleet.admin_a, "PT-A-1").last_seen_at.date() == date(2026, 11, 25)
    with pytest.raises(ImportRejected) as caught:
        usage.import_usage(store, fleet.admin_a, "asset_tag,date,active_minutes\nPT-B-1,2026-11-24,5\n")
    assert caught.value.problems[0].key == "ict.error.no_such_device"  # another school's tablet


def test_readiness_counts_pupils_with_a_working_tablet(store, clock, fleet):
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    rows = {r["class_name"]: r for r in dashboard.class_readiness(store, clock, fleet.teacher_a)}
    assert (rows["1"]["pupils"], rows["1"]["ready"], rows["1"]["not_seen"]) == (2, 1, 1)  # never seen yet
    assert all(r["school_code"] == "E01" for r in rows.values())


def test_label_sheet_is_a_pdf_of_visible_devices_only(store, clock, fleet):
    pdf = labels.label_sheet(store, fleet.teacher_a, ["PT-A-1", "PT-A-2"])
    assert pdf.startswith(b"%PDF")
    assert [r[0] for r in labels.label_rows(store, fleet.teacher_a, ["PT-A-1", "PT-B-1"])] == ["PT-A-1"]
    with pytest.raises(InvalidInput):
        labels.label_sheet(store, fleet.teacher_a, ["PT-B-1"])


def test_the_plan_chart_names_the_largest_schools_and_groups_the_rest():
    rows = [{"fiscal_year": fy, "school_id": school, "school_code": f"E{school:02d}", "name_ja": f"学校{school}",
             "name_en": f"School {school}", "kind": "pupil_tablet", "devices": devices, "cost": devices * 10}
            for fy, school, devices in [(2026, 1, 5), (2026, 2, 50), (2026, 3, 1), (2026, 4, 2),
                                        (2028, 2, 7), (2028, 5, 40), (2028, 6, 1)]]
    bars = planning.by_school_for_chart(rows, top=2)
    # Schools 2 (570) and 5 (400) by name; 1, 3, 4 and 6 as one group, per year.
    assert [(b["fiscal_year"], b["school_id"], b["name_ja"], b["devices"], b["cost"]) for b in bars] == [
        (2026, 2, "学校2", 50, 500), (2026, None, None, 8, 80),
        (2028, 2, "学校2", 7, 70), (2028, 5, "学校5", 40, 400), (2028, None, None, 1, 10)]
    assert sum(b["cost"] for b in bars) == sum(r["cost"] for r in rows)
    # One school over the limit is named rather than made a group of one.
    assert None not in {b["school_id"] for b in planning.by_school_for_chart(rows, top=5)}
    # Every year on the axis, 2027 with nothing due too.
    assert planning.plan_years(rows) == [2026, 2027, 2028]
    assert planning.plan_years([]) == []


def test_devices_past_end_of_support_need_attention(store, clock, fleet):
    today = clock.now().date()
    _support_end(store, "PT-A-1", str(today - timedelta(days=30)))
    _support_end(store, "PT-A-2", str(today - timedelta(days=400)))
    _support_end(store, "PT-A-3", str(today + timedelta(days=1)))  # still supported
    _support_end(store, "PT-A-4", str(today - timedelta(days=5)))
    registry.set_status(store, clock, fleet.admin_a, "PT-A-4", "retired")  # out of use: nothing to do
    _support_end(store, "PT-B-1", str(today - timedelta(days=10)))
    board = dashboard.past_support_end(store, clock, fleet.board)
    assert [(r["asset_tag"], r["support_end"]) for r in board] == [
        ("PT-A-2", today - timedelta(days=400)), ("PT-A-1", today - timedelta(days=30)),
        ("PT-B-1", today - timedelta(days=10))]
    # A school sees its own devices only.
    assert [r["asset_tag"] for r in dashboard.past_support_end(store, clock, fleet.teacher_a)] == ["PT-A-2", "PT-A-1"]


def _indicator(store, clock, key):
    from school_ict.services.indicators import indicators

    return next(i for i in indicators(store, clock) if i.key == key)


def test_years_before_the_records_begin_have_no_data_not_zero(store, clock, fleet):
    from kernel.indicators import fiscal_year

    this_year = fiscal_year(clock.now().date())
    # Only registrations (dated at purchase): nothing recorded before this year.
    _support_end(store, "PT-A-1", f"{this_year}-12-31")
    _support_end(store, "PT-A-2", f"{this_year}-12-31")
    due = _indicator(store, clock, "school_ict.indicator.replacements_due")
    assert due.series == ((this_year - 2, None), (this_year - 1, None), (this_year, 2.0))
    breakage = _indicator(store, clock, "school_ict.indicator.breakage")
    assert [v for _, v in breakage.series][:2] == [None, None]

    # Records from last year on (a check-out then); a device whose support ended last year,
    # replaced and retired since, still counts for last year: last year is data, and two years
    # ago stays without (before the records began).
    device = store.scalar("SELECT id FROM school_ict_devices WHERE asset_tag = 'PT-A-3'")
    store.query("""INSERT INTO school_ict_events (device_id, happened_at, actor_login, kind, from_status, to_status)
                   VALUES (?, ?, 'test', 'check_out', 'in_stock', 'assigned')""",
                [device, f"{this_year - 1}-05-10 10:00:00+09"])
    _support_end(store, "PT-A-3", f"{this_year - 1}-09-30")
    registry.set_status(store, clock, fleet.admin_a, "PT-A-3", "retired")
    due = _indicator(store, clock, "school_ict.indicator.replacements_due")
    assert due.series == ((this_year - 2, None), (this_year - 1, 1.0), (this_year, 2.0))

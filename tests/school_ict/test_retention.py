"""What the device registry keeps of a pupil who left: erased 5 years after leaving once the
tablet is back; the device's history stays without them."""

from __future__ import annotations

from datetime import timedelta

from kernel.actor import SYSTEM
from portal.modules import all_modules
from portal.roster_bundle import make_city, small_plan, write_bundle
from portal.services import retention, roster
from school_ict.services import registry
from tests.analytics.test_retention import at, without, years_before

all_modules()


def test_a_left_pupil_is_erased_from_the_registry_after_5_years_once_the_tablet_is_back(store, clock, tmp_path):
    today = clock.now().date()
    year = today.year if today.month >= 4 else today.year - 1
    rows = make_city(year, small_plan())
    returned, holding, recent, staying = (f"E01-{year - 1}-{n:03d}" for n in (1, 2, 3, 4))
    entered = at(years_before(today, 6))
    assert roster.import_bundle(store, entered, SYSTEM, write_bundle(rows, tmp_path / "b1")).stored
    school = store.scalar("SELECT id FROM portal_schools WHERE code = 'E01'")
    for n, pupil in enumerate((returned, holding, recent, staying)):
        registry.register_device(store, entered, SYSTEM, asset_tag=f"PT-{n}", serial=f"SER-{n}",
                                 kind="pupil_tablet", model="Chromebook", school_id=school)
        registry.check_out(store, entered, SYSTEM, f"PT-{n}", pupil=pupil)
    registry.check_in(store, entered, SYSTEM, "PT-0")
    long_ago = at(years_before(today, 5) - timedelta(days=1))
    assert roster.import_bundle(store, long_ago, SYSTEM,
                                write_bundle(without(rows, returned, holding), tmp_path / "b2")).stored
    assert roster.import_bundle(store, at(years_before(today, 4)), SYSTEM,
                                write_bundle(without(rows, returned, holding, recent), tmp_path / "b3")).stored
    pupils = store.scalar("SELECT count(*) FROM school_ict_pupils")

    # The one whose tablet is back goes; the one still holding theirs stays, as do its return flag and
    # the pupil who left 4 years ago.
    assert retention.apply(store, clock)["pupil_devices"] == 1
    assert {p for (p,) in store.query("SELECT pseudonym FROM school_ict_pupils")} >= {holding, recent, staying}
    assert store.scalar("SELECT count(*) FROM school_ict_pupils") == pupils - 1
    assert not store.query("SELECT 1 FROM school_ict_pupils WHERE pseudonym = ?", [returned])
    assert not store.query("SELECT 1 FROM school_ict_events WHERE contains(detail, ?)", [returned])
    assert store.query("SELECT e.kind, e.detail FROM school_ict_events e JOIN school_ict_devices d ON d.id = e.device_id "
                       "WHERE d.asset_tag = 'PT-0' AND e.kind IN ('check_out', 'check_in') ORDER BY e.id") == [
        ("check_out", "—"), ("check_in", "—")]
    assert store.query("SELECT d.asset_tag FROM school_ict_device_returns r JOIN school_ict_devices d "
                       "ON d.id = r.device_id ORDER BY 1") == [("PT-1",), ("PT-2",)]
    assert retention.apply(store, clock)["pupil_devices"] == 0

    # Once their tablet is checked in, the next night erases them too.
    registry.check_in(store, clock, SYSTEM, "PT-1")
    assert retention.apply(store, clock)["pupil_devices"] == 1
    assert not store.query("SELECT 1 FROM school_ict_pupils WHERE pseudonym = ?", [holding])
    assert store.query("SELECT d.asset_tag FROM school_ict_device_returns r JOIN school_ict_devices d "
                       "ON d.id = r.device_id") == [("PT-2",)]
    assert store.scalar("SELECT count(*) FROM school_ict_events WHERE detail IN (?, ?)", [recent, staying]) == 2
    assert retention.apply(store, clock)["pupil_devices"] == 0

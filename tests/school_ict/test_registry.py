"""Registry services: check-out/in, every refused transition, history, role isolation."""

from __future__ import annotations

import pytest

from kernel.errors import InvalidInput, NotFound, PermissionDenied
from school_ict.services import registry, repairs
from school_ict.services.errors import DeviceNotFound, TransitionRefused


def test_check_out_to_pupil_and_back_records_history(store, clock, fleet):
    device = registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    assert (device.status, device.pupil) == ("assigned", "P-A-1")
    registry.check_in(store, clock, fleet.teacher_a, "PT-A-1")
    events = registry.history(store, fleet.teacher_a, "PT-A-1")
    assert [e.kind for e in events] == ["check_in", "check_out", "registered"]
    assert events[0].actor_login == "teacher_a" and events[1].detail == "P-A-1"
    assert registry.get_device(store, fleet.teacher_a, "PT-A-1").status == "in_stock"


def test_two_pupils_on_one_tablet_is_refused(store, clock, fleet):
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    with pytest.raises(TransitionRefused) as caught:
        registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-2")
    assert caught.value.key == "ict.error.already_assigned"
    assert caught.value.params["holder"] == "P-A-1"


def test_a_pupil_with_two_tablets_is_refused(store, clock, fleet):
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    with pytest.raises(TransitionRefused) as caught:
        registry.check_out(store, clock, fleet.teacher_a, "PT-A-2", pupil="P-A-1")
    assert caught.value.key == "ict.error.holder_has_device"
    assert registry.get_device(store, fleet.teacher_a, "PT-A-2").status == "in_stock"


def test_two_blackboards_in_one_room_are_refused(store, clock, fleet):
    registry.check_out(store, clock, fleet.admin_a, "EB-A-1", classroom_id=fleet.room_a1)
    with pytest.raises(TransitionRefused, match="holder_has_device"):
        registry.check_out(store, clock, fleet.admin_a, "EB-A-2", classroom_id=fleet.room_a1)
    registry.check_out(store, clock, fleet.admin_a, "EB-A-2", classroom_id=fleet.room_a2)


@pytest.mark.parametrize("status,key", [
    ("retired", "ict.error.cannot_assign_retired"),
    ("lost", "ict.error.cannot_assign_lost"),
])
def test_assigning_a_retired_or_lost_device_is_refused(store, clock, fleet, status, key):
    registry.set_status(store, clock, fleet.admin_a, "PT-A-1", status)
    with pytest.raises(TransitionRefused) as caught:
        registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    assert caught.value.key == key


def test_assigning_a_device_in_repair_is_refused(store, clock, fleet):
    repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-1", "画面割れ", "drop")
    with pytest.raises(TransitionRefused, match="cannot_assign_in_repair"):
        registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")


@pytest.mark.parametrize("tag,target,key", [
    ("TT-A-1", {"pupil": "P-A-1"}, "ict.error.wrong_kind_pupil"),
    ("PT-A-1", {"teacher": "teacher_a"}, "ict.error.wrong_kind_teacher"),
    ("TT-A-1", {"classroom_id": "room"}, "ict.error.wrong_kind_classroom"),
    ("PT-A-1", {"pupil": "P-B-1"}, "ict.error.other_school_target"),
    ("TT-A-1", {"teacher": "teacher_b"}, "ict.error.other_school_target"),
])
def test_wrong_kind_or_school_of_holder_is_refused(store, clock, fleet, tag, target, key):
    if target.get("classroom_id") == "room":
        target = {"classroom_id": fleet.room_a1}
    with pytest.raises(TransitionRefused) as caught:
        registry.check_out(store, clock, fleet.board, tag, **target)
    assert caught.value.key == key


def test_check_out_needs_exactly_one_known_target(store, clock, fleet):
    with pytest.raises(InvalidInput, match="one_target"):
        registry.check_out(store, clock, fleet.teacher_a, "PT-A-1")
    with pytest.raises(InvalidInput, match="one_target"):
        registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1", classroom_id=fleet.room_a1)
    with pytest.raises(NotFound, match="no_such_pupil"):
        registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-NOBODY")


def test_check_in_of_a_device_in_stock_is_refused(store, clock, fleet):
    with pytest.raises(TransitionRefused, match="not_assigned"):
        registry.check_in(store, clock, fleet.teacher_a, "PT-A-1")


@pytest.mark.parametrize("start,new_status,key", [
    ("retired", "in_stock", "ict.error.cannot_leave_retired"),
    ("in_stock", "in_stock", "ict.error.same_status"),
    ("in_stock", "assigned", "ict.error.use_check_out"),
    ("in_stock", "in_repair", "ict.error.use_repair"),
    ("lost", "lost", "ict.error.same_status"),
])
def test_status_changes_that_make_no_sense_are_refused(store, clock, fleet, start, new_status, key):
    if start != "in_stock":
        registry.set_status(store, clock, fleet.admin_a, "PT-A-1", start)
    with pytest.raises(TransitionRefused) as caught:
        registry.set_status(store, clock, fleet.admin_a, "PT-A-1", new_status)
    assert caught.value.key == key


def test_losing_an_assigned_tablet_frees_the_pupil_for_a_new_one(store, clock, fleet):
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    registry.set_status(store, clock, fleet.admin_a, "PT-A-1", "lost", "なくした")
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-2", pupil="P-A-1")
    registry.set_status(store, clock, fleet.admin_a, "PT-A-1", "in_stock")  # found again
    assert [e.kind for e in registry.history(store, fleet.admin_a, "PT-A-1")][:2] == ["status", "status"]


def test_teachers_cannot_change_status(store, clock, fleet):
    with pytest.raises(PermissionDenied):
        registry.set_status(store, clock, fleet.teacher_a, "PT-A-1", "lost")


def test_class_set_from_a_cart_goes_out_and_comes_back(store, clock, fleet):
    repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-2", "充電できない", "wear")
    result = registry.check_out_cart(store, clock, fleet.teacher_a, fleet.school_a, "A", fleet.room_a2)
    # The tablet in repair is not in stock, so the cart lends the other three.
    assert result.done == ["PT-A-1", "PT-A-3", "PT-A-4"] and not result.refused
    back = registry.check_in_classroom(store, clock, fleet.teacher_a, fleet.room_a2)
    assert back.done == ["PT-A-1", "PT-A-3", "PT-A-4"]


def test_bulk_check_out_names_each_refused_tag_and_lends_the_rest(store, clock, fleet):
    registry.set_status(store, clock, fleet.admin_a, "PT-A-5", "retired")
    result = registry.check_out_many(store, clock, fleet.teacher_a,
                                     registry.split_tags("PT-A-1, PT-A-5\nNOPE\tPT-B-1 PT-A-6 PT-A-1"),
                                     fleet.room_a1)
    assert result.done == ["PT-A-1", "PT-A-6"]
    refused = {tag: exc.key for tag, exc in result.refused}
    # Another school's tablet reads as unknown to a teacher: it is not theirs to know about.
    assert refused == {"PT-A-5": "ict.error.cannot_assign_retired", "NOPE": "ict.error.no_such_device",
                       "PT-B-1": "ict.error.no_such_device"}


def test_a_teacher_of_school_a_never_sees_school_b(store, clock, fleet):
    tags = {d.asset_tag for d in registry.list_devices(store, fleet.teacher_a)}
    assert "PT-B-1" not in tags and "PT-A-1" in tags
    with pytest.raises(PermissionDenied):
        registry.list_devices(store, fleet.teacher_a, school_id=fleet.school_b)
    with pytest.raises(DeviceNotFound):
        registry.get_device(store, fleet.teacher_a, "PT-B-1")
    with pytest.raises(DeviceNotFound):
        registry.history(store, fleet.teacher_a, "PT-B-1")
    with pytest.raises(PermissionDenied):
        registry.list_classrooms(store, fleet.teacher_a, fleet.school_b)
    with pytest.raises(PermissionDenied):
        registry.list_pupils(store, fleet.teacher_a, fleet.room_b1)
    assert [s.id for s in registry.list_schools(store, fleet.teacher_a)] == [fleet.school_a]
    # The board sees both schools.
    board_tags = {d.asset_tag for d in registry.list_devices(store, fleet.board)}
    assert {"PT-A-1", "PT-B-1"} <= board_tags


def test_register_refuses_duplicates_and_unknown_kinds(store, clock, fleet):
    with pytest.raises(InvalidInput, match="duplicate_device"):
        registry.register_device(store, clock, fleet.admin_a, asset_tag="PT-A-9", serial="SA1",
                                 kind="pupil_tablet", model="X", school_id=fleet.school_a)
    with pytest.raises(InvalidInput, match="bad_kind"):
        registry.register_device(store, clock, fleet.admin_a, asset_tag="X-1", serial="X1", kind="phone",
                                 model="X", school_id=fleet.school_a)
    with pytest.raises(PermissionDenied):
        registry.register_device(store, clock, fleet.admin_a, asset_tag="X-2", serial="X2", kind="pupil_tablet",
                                 model="X", school_id=fleet.school_b)


def test_schema_refuses_an_assigned_device_without_holder(store, fleet):
    import duckdb

    with pytest.raises(duckdb.ConstraintException):
        store.cursor().execute("UPDATE school_ict_devices SET status = 'assigned' WHERE asset_tag = 'PT-A-1'")


def test_device_frame_is_scoped_and_names_the_holder(store, clock, fleet):
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    registry.check_out(store, clock, fleet.admin_a, "EB-A-1", classroom_id=fleet.room_a1)
    frame = registry.device_frame(store, fleet.teacher_a)
    assert set(frame["school_code"]) == {"E01"}
    rows = {r["asset_tag"]: r for r in frame.iter_rows(named=True)}
    assert rows["PT-A-1"]["holder"] == "P-A-1"
    assert (rows["EB-A-1"]["class_grade"], rows["EB-A-1"]["class_name"]) == (3, "1")
    assert registry.device_frame(store, fleet.board, limit=2).height == 2
    assert registry.count_devices(store, fleet.teacher_a) == frame.height

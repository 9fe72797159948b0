"""Bulk audit and repair tickets."""

from __future__ import annotations

import pytest

from kernel.errors import InvalidInput, PermissionDenied
from school_ict.services import audit, registry, repairs
from school_ict.services.errors import TransitionRefused


def test_audit_of_a_cart_lists_unknown_missing_and_strays(store, clock, fleet):
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")  # left cart A
    result = audit.run_audit(store, clock, fleet.teacher_a, fleet.school_a, "cart:A",
                             "PT-A-2\nPT-A-3\nXYZ-9\nPT-A-5\nPT-B-1\nPT-A-2")
    assert result.seen == ["PT-A-2", "PT-A-3"]
    assert result.missing == ["PT-A-4"]
    assert result.unknown == ["XYZ-9", "PT-B-1"]  # another school's tag is unknown here
    assert result.elsewhere == ["PT-A-5"]
    kinds = [e.kind for e in registry.history(store, fleet.teacher_a, "PT-A-2")]
    assert kinds[0] == "audit_seen"
    past = audit.list_audits(store, fleet.teacher_a, fleet.school_a)
    assert [(a["seen"], a["unknown"], a["missing"]) for a in past] == [(2, 2, 1)]


def test_audit_of_a_classroom_expects_its_board_and_its_pupils_tablets(store, clock, fleet):
    registry.check_out(store, clock, fleet.admin_a, "EB-A-1", classroom_id=fleet.room_a1)
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-2", pupil="P-A-3")  # a pupil of the other class
    result = audit.run_audit(store, clock, fleet.teacher_a, fleet.school_a, f"classroom:{fleet.room_a1}", ["EB-A-1"])
    assert result.seen == ["EB-A-1"] and result.missing == ["PT-A-1"]


def test_audit_needs_tags_and_a_known_scope_and_the_own_school(store, clock, fleet):
    with pytest.raises(InvalidInput, match="no_audit_tags"):
        audit.run_audit(store, clock, fleet.teacher_a, fleet.school_a, "school", " \n ")
    with pytest.raises(InvalidInput, match="bad_scope"):
        audit.run_audit(store, clock, fleet.teacher_a, fleet.school_a, "garden", "PT-A-1")
    with pytest.raises(PermissionDenied):
        audit.run_audit(store, clock, fleet.teacher_a, fleet.school_b, "school", "PT-B-1")


def test_repair_ticket_keeps_the_pupil_and_frees_them(store, clock, fleet):
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-1", pupil="P-A-1")
    repair_id = repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-1", "画面割れ", "drop")
    ticket = repairs.list_repairs(store, fleet.teacher_a, open_only=True)[0]
    assert (ticket.id, ticket.pupil, ticket.cause, ticket.state) == (repair_id, "P-A-1", "drop", "open")
    # The pupil gets a loaner while theirs is away.
    registry.check_out(store, clock, fleet.teacher_a, "PT-A-2", pupil="P-A-1")
    with pytest.raises(PermissionDenied):
        repairs.close_repair(store, clock, fleet.teacher_a, repair_id, "returned")
    repairs.close_repair(store, clock, fleet.admin_a, repair_id, "returned", "液晶交換")
    assert registry.get_device(store, fleet.admin_a, "PT-A-1").status == "in_stock"
    with pytest.raises(TransitionRefused, match="repair_closed"):
        repairs.close_repair(store, clock, fleet.admin_a, repair_id, "written_off")
    kinds = [e.kind for e in registry.history(store, fleet.admin_a, "PT-A-1")]
    assert kinds[:2] == ["repair_closed", "repair_opened"]


def test_written_off_repair_retires_the_device(store, clock, fleet):
    repair_id = repairs.open_repair(store, clock, fleet.admin_a, "PT-A-1", "水没", "liquid")
    repairs.close_repair(store, clock, fleet.admin_a, repair_id, "written_off")
    assert registry.get_device(store, fleet.admin_a, "PT-A-1").status == "retired"
    with pytest.raises(TransitionRefused, match="cannot_repair_retired"):
        repairs.open_repair(store, clock, fleet.admin_a, "PT-A-1", "again", "drop")


def test_repair_refuses_bad_input_and_double_tickets(store, clock, fleet):
    with pytest.raises(InvalidInput, match="bad_cause"):
        repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-1", "x", "cat")
    with pytest.raises(InvalidInput, match="no_symptom"):
        repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-1", " ", "drop")
    repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-1", "x", "drop")
    with pytest.raises(TransitionRefused, match="cannot_repair_in_repair"):
        repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-1", "x", "drop")


def test_breakage_per_100_devices_per_term(store, clock, fleet):
    # Six Chromebook X tablets at school A; two break today, in the term and fiscal year of "now"
    # (Japanese school terms: April–August, September–December, January–March).
    repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-1", "x", "drop")
    repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-2", "y", "liquid")
    rows = repairs.breakage(store, fleet.board)
    today = clock.now().date()
    fiscal_year = today.year if today.month >= 4 else today.year - 1
    term = 1 if 4 <= today.month <= 8 else 2 if today.month >= 9 else 3
    assert rows == [{"fiscal_year": fiscal_year, "term": term, "school_code": "E01", "model": "Chromebook X",
                     "repairs": 2, "devices": 6, "per_100": 33.3}]
    assert repairs.breakage(store, fleet.teacher_b) == []


def test_breakage_by_model_counts_every_schools_devices(store, clock, fleet):
    # One break among the city's seven Chromebook X (six at school A, one at school B).
    repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-1", "x", "drop")
    rows = repairs.breakage_by_model(store, fleet.board)
    assert [(r["model"], r["repairs"], r["devices"], r["per_100"]) for r in rows] == [("Chromebook X", 1, 7, 14.3)]
    own = repairs.breakage_by_model(store, fleet.teacher_a)
    assert [(r["devices"], r["per_100"]) for r in own] == [(6, 16.7)]

"""A repair closed mails the teacher who reported the fault (and nobody else), in the
transaction that closes it; a teacher may turn it off."""

from __future__ import annotations

from portal.services import notify
from school_ict.services import repairs


def outbox(store) -> list[dict]:
    return store.query_dicts("SELECT * FROM manabi_outbox ORDER BY id")


def test_the_reporting_teacher_hears_the_repair_is_finished(store, clock, fleet):
    store.cursor().execute("UPDATE portal_users SET email = login || '@school.example' WHERE login LIKE '%_a'")
    repair_id = repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-1", "画面割れ", "drop")
    assert outbox(store) == []
    repairs.close_repair(store, clock, fleet.admin_a, repair_id, "returned", "液晶交換")
    [mail] = outbox(store)
    assert (mail["kind"], mail["user_id"], mail["to_address"]) == (
        "school_ict.repair_finished", fleet.teacher_a.user_id, "teacher_a@school.example")
    assert mail["subject"] == "【学び 飯塚市】端末 PT-A-1 の修理が終わりました"
    for line in ("資産番号: PT-A-1（Chromebook X）", "症状: 画面割れ", "結果: 返却済み", "対応内容: 液晶交換"):
        assert line in mail["body_text"]


def test_a_teacher_who_turned_it_off_gets_nothing(store, clock, fleet):
    store.cursor().execute("UPDATE portal_users SET email = login || '@school.example'")
    teacher_kinds = {k.name for k in notify.kinds_for({"teacher"})}
    assert "school_ict.repair_finished" in teacher_kinds
    assert "library_ebooks.loan_due" not in teacher_kinds  # a resident's, not a teacher's
    assert "school_ict.repair_finished" not in {k.name for k in notify.kinds_for({"resident"})}
    notify.save_choices(store, clock, fleet.teacher_a, "ja", set())
    repair_id = repairs.open_repair(store, clock, fleet.teacher_a, "PT-A-2", "起動しない", "unknown")
    repairs.close_repair(store, clock, fleet.admin_a, repair_id, "written_off")
    assert outbox(store) == []

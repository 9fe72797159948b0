"""AppTest: the learning dashboard and the board view per role, on the small demo city."""

from __future__ import annotations

import pytest

CLASS_DASHBOARD = "../analytics/pages/class_dashboard.py"
BOARD = "../analytics/pages/board.py"


def test_teacher_sees_their_own_class_and_charts(app_for):
    at = app_for(login="teacher01", page=CLASS_DASHBOARD)
    assert not at.exception
    assert [t.value for t in at.title] == ["学習ダッシュボード"]
    classes = at.selectbox(key="analytics_class").options
    assert len(classes) == 1 and classes[0].startswith("1年1組")  # teacher01's homeroom only
    assert any("担当学級だけ" in c.value for c in at.caption)
    assert len(at.tabs) == 5
    # The 'may need help' list shows its rules and each pupil's reason.
    assert any("判定の規則" in c.value for c in at.caption)
    assert at.dataframe  # the activity table
    # Each pupil once, every reason in one cell (the demo class has pupils flagged by several rules).
    helped = at.table[0].value
    assert helped.index.is_unique and len(helped) > 0
    assert any("／" in reasons for reasons in helped.iloc[:, 0])


def test_drill_down_to_one_pupil_is_logged(app_for):
    at = app_for(login="teacher01", page=CLASS_DASHBOARD, lang="en")
    assert not at.exception
    pupil = at.selectbox(key="analytics_pupil")
    # The class teacher sees their pupils by name and kana (the demo's school roster).
    assert pupil.options and all("（" in p and not p.startswith("P-") for p in pupil.options)
    pupil.select_index(0).run()
    assert not at.exception
    assert "When" in at.dataframe[-1].value.columns
    from portal.runtime import open_runtime

    chosen = at.selectbox(key="analytics_pupil").value
    assert chosen.startswith("P-E01-")  # own class only
    logged = open_runtime().store.query("SELECT learner_id, view FROM analytics_access_log")
    assert logged == [(chosen, "timeline")]


@pytest.mark.parametrize("login", ["resident01", "librarian01", "admin"])
def test_the_class_dashboard_is_not_offered_to_others(app_for, login):
    at = app_for(login=login)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(CLASS_DASHBOARD)


def test_board_view_for_the_city_administrator_has_no_pupils(app_for):
    at = app_for(login="admin", page=BOARD, lang="en")
    assert not at.exception
    assert [t.value for t in at.title] == ["Learning across schools"]
    table = at.dataframe[0].value
    assert list(table.columns) == ["School", "Unit", "Curriculum code", "Pupils", "Mastery", "Completion"]
    assert table["Pupils"].min() >= 5
    assert not any("P-E01-" in str(v) for v in table.to_numpy().ravel())


def test_board_view_is_not_offered_to_teachers(app_for):
    at = app_for(login="teacher01")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(BOARD)


LRS_ADMIN = "../analytics/pages/lrs_admin.py"


def test_admin_registers_an_app_and_sees_the_secret_once(app_for):
    at = app_for(login="admin", page=LRS_ADMIN, lang="en")
    assert not at.exception
    at.text_input(key="analytics_client_name").input("Kanji drill")
    next(b for b in at.button if b.label == "Register app").click().run()
    assert not at.exception
    assert any("Kanji drill" in s.value for s in at.success)
    secret_block = at.code[0].value
    assert secret_block.startswith("key:    mk_") and "secret: " in secret_block
    at.run()  # the next run shows the secret no more
    assert not at.code
    assert "Kanji drill" in at.dataframe[0].value.iloc[:, 0].tolist()


def test_admin_grants_an_app_read_all_and_takes_it_back(app_for):
    at = app_for(login="admin", page=LRS_ADMIN, lang="en")
    table = at.dataframe[0].value
    assert table.set_index("App name").loc["デモ ドリルアプリ", "Reads"] == "reads its own"
    at.selectbox(key="analytics_scope_client").select("デモ ドリルアプリ")
    at.radio(key="analytics_scope").set_value("all")
    next(b for b in at.button if b.label == "Set what it reads").click().run()
    assert not at.exception
    assert at.dataframe[0].value.set_index("App name").loc["デモ ドリルアプリ", "Reads"] == "reads all"
    at.radio(key="analytics_scope").set_value("mine")
    next(b for b in at.button if b.label == "Set what it reads").click().run()
    assert at.dataframe[0].value.set_index("App name").loc["デモ ドリルアプリ", "Reads"] == "reads its own"


def test_school_admin_sees_the_roster_but_not_the_apps(app_for):
    at = app_for(login="schooladmin01", page=LRS_ADMIN)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["学習者名簿"]


def test_the_school_admin_sees_every_class_of_the_school(app_for):
    at = app_for(login="schooladmin01", page=CLASS_DASHBOARD)
    assert not at.exception
    assert len(at.selectbox(key="analytics_class").options) > 1
    assert not any("担当学級だけ" in c.value for c in at.caption)


def test_a_teacher_without_classes_is_told_who_assigns_them(app_for):
    from kernel.actor import SYSTEM
    from portal.runtime import open_runtime
    from portal.services import teacher_classes

    at = app_for(login="teacher002", page=CLASS_DASHBOARD, lang="en")
    teacher_classes.replace_classes(open_runtime().store, SYSTEM, "teacher002", [])
    at.run()
    assert not at.exception
    assert not at.selectbox
    assert any("school administrator" in i.value and "Teachers' classes" in i.value for i in at.info)


def test_the_class_export_and_repair_weeks_on_the_page(app_for):
    at = app_for(login="teacher01", page=CLASS_DASHBOARD, lang="en")
    assert not at.exception
    assert any("pseudonymised" in str(el.proto.label) for el in at.get("download_button"))
    # The time-on-task tab explains the red outlines (school ICT's repairs are in the demo).
    assert any("in repair" in c.value for c in at.caption)
    # The export itself: pseudonyms only (the service the button calls).
    from analytics.services import dashboards
    from portal.runtime import open_runtime
    from portal.services import accounts

    runtime = open_runtime()
    teacher = accounts.actor_for(runtime.store, runtime.store.scalar(
        "SELECT id FROM portal_users WHERE login = 'teacher01'"))
    frame = dashboards.class_export(runtime.store, runtime.clock, teacher, 1, "1", "en")
    text = dashboards.export_csv(frame, {}).decode("utf-8-sig")
    assert frame.height and "P-E01-" not in text

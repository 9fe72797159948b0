"""AppTest: the learning dashboard and the board view per role, on the small demo city."""

from __future__ import annotations

import pytest

CLASS_DASHBOARD = "../analytics/pages/class_dashboard.py"
BOARD = "../analytics/pages/board.py"


def test_teacher_sees_their_school_classes_and_charts(app_for):
    at = app_for(login="teacher01", page=CLASS_DASHBOARD)
    assert not at.exception
    assert [t.value for t in at.title] == ["学習ダッシュボード"]
    classes = at.selectbox(key="analytics_class").options
    assert classes and all("組" in c for c in classes)
    assert len(at.tabs) == 5
    # The 'may need help' list shows its rules and each pupil's reason.
    assert any("判定の規則" in c.value for c in at.caption)
    assert at.dataframe  # help list and/or activity table


def test_drill_down_to_one_pupil_is_logged(app_for):
    at = app_for(login="teacher01", page=CLASS_DASHBOARD, lang="en")
    assert not at.exception
    pupil = at.selectbox(key="analytics_pupil")
    assert pupil.options and all(p.startswith("E01-") for p in pupil.options)  # own school only
    pupil.select(pupil.options[0]).run()
    assert not at.exception
    assert "When" in at.dataframe[-1].value.columns
    from portal.runtime import open_runtime

    logged = open_runtime().store.query("SELECT learner_id, view FROM analytics_access_log")
    assert logged == [(pupil.options[0], "timeline")]


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
    assert not any("E01-" in str(v) for v in table.to_numpy().ravel())


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


def test_school_admin_sees_the_roster_but_not_the_apps(app_for):
    at = app_for(login="schooladmin01", page=LRS_ADMIN)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["学習者名簿"]

"""AppTest: the School ICT pages per role, on the small demo city."""

from __future__ import annotations

import pytest

DASHBOARD = "../school_ict/pages/dashboard.py"
DEVICE = "../school_ict/pages/device.py"
CHECKOUT = "../school_ict/pages/checkout.py"


def _cells(at, index=0) -> list:
    return at.dataframe[index].value.iloc[:, 0].tolist()


def test_teacher_sees_only_their_schools_devices(app_for):
    at = app_for(login="teacher01", page=DASHBOARD)
    assert not at.exception
    assert [t.value for t in at.title] == ["学校の端末"]
    tags = _cells(at)
    assert tags and all(tag.split("-")[1] == "E01" for tag in tags)
    assert "ict_school" not in [s.key for s in at.selectbox]  # no school picker for a teacher


def test_board_sees_every_school_and_the_overview(app_for):
    at = app_for(login="admin", page=DASHBOARD, lang="en")
    assert not at.exception
    assert [t.value for t in at.title] == ["School devices"]
    schools = {tag.split("-")[1] for tag in _cells(at)}
    assert len(schools) == 4
    assert len(at.tabs) == 4  # devices, classes, attention, by school


def test_residents_are_not_offered_the_school_pages(app_for):
    at = app_for(login="resident01")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(DASHBOARD)


def test_device_page_shows_history_and_checks_in(app_for):
    at = app_for(login="teacher01", page=DEVICE)
    assert not at.exception
    at.text_input(key="ict_device_tag").input("PT-E01-0001").run()
    assert not at.exception
    history = at.dataframe[1].value
    assert "貸出" in history.iloc[:, 1].tolist()
    at.button(key="ict_check_in").click().run()
    assert not at.exception
    assert any("返却しました" in s.value for s in at.success)
    assert "返却" in at.dataframe[1].value.iloc[:, 1].tolist()


def test_device_of_another_school_is_not_found_for_a_teacher(app_for):
    at = app_for(login="teacher01", page=DEVICE)
    at.text_input(key="ict_device_tag").input("PT-J01-0001").run()
    assert any("PT-J01-0001" in e.value for e in at.error)


@pytest.mark.parametrize("lang,done", [("ja", "台を処理しました"), ("en", "devices done")])
def test_class_set_check_out_from_a_cart(app_for, lang, done):
    at = app_for(login="schooladmin01", page=CHECKOUT, lang=lang)
    assert not at.exception
    at.selectbox[0].select("A")  # the charging cart
    at.button[1].click().run()  # the class-set form's submit
    assert not at.exception
    assert any(done in s.value for s in at.success)

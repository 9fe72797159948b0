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
    assert len(at.tabs) == 5  # devices, classes, attention, usage, by school


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


AUDIT = "../school_ict/pages/audit.py"
REPAIRS = "../school_ict/pages/repairs.py"
IMPORT = "../school_ict/pages/import_devices.py"
REPLACEMENT = "../school_ict/pages/replacement.py"
NETWORK = "../school_ict/pages/network.py"


def test_audit_page_lists_unknown_and_missing(app_for):
    at = app_for(login="teacher01", page=AUDIT)
    assert not at.exception
    at.text_area(key="ict_audit_tags").input("PT-E01-0001\nNOT-A-TAG")
    at.button[0].click().run()
    assert not at.exception
    assert any("未登録 1 件" in i.value for i in at.info)
    unknown = at.dataframe[0].value.iloc[:, 0].tolist()
    assert unknown == ["NOT-A-TAG"]
    assert len(at.dataframe[1].value) > 0  # the rest of the school was expected and not seen


@pytest.mark.parametrize("lang,title", [("ja", "修理"), ("en", "Repairs")])
def test_repairs_page_shows_tickets_and_breakage(app_for, lang, title):
    at = app_for(login="schooladmin01", page=REPAIRS, lang=lang)
    assert not at.exception
    assert [t.value for t in at.title] == [title]
    assert len(at.dataframe) == 3  # open, all, breakage


def test_import_page_opens_for_school_admins_not_teachers(app_for):
    at = app_for(login="schooladmin01", page=IMPORT)
    assert not at.exception
    assert [t.value for t in at.title] == ["端末の取り込み（MDM）"]
    teacher = app_for(login="teacher01")
    with pytest.raises(ValueError):
        teacher.switch_page(IMPORT)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_replacement_plan_for_the_board(app_for, lang):
    at = app_for(login="admin", page=REPLACEMENT, lang=lang)
    assert not at.exception
    assert len(at.dataframe[0].value) > 0
    assert any(("年度" if lang == "ja" else "FY") in m.value for m in at.markdown)


def test_network_page_for_the_board_and_a_school_admin(app_for):
    at = app_for(login="admin", page=NETWORK)
    assert not at.exception
    assert len(at.dataframe[0].value) == 4  # every school of the small city
    at = app_for(login="schooladmin01", page=NETWORK, lang="en")
    assert not at.exception
    assert len(at.dataframe[0].value) == 1  # their own school only


def test_class_view_lists_pupils_and_their_tablets(app_for):
    at = app_for(login="teacher01", page=DASHBOARD)
    assert not at.exception
    readiness, one_class = at.dataframe[1].value, at.dataframe[2].value  # the classes tab
    assert len(readiness) > 0
    assert len(one_class) > 0 and all(p.startswith("P-E01-") for p in one_class.iloc[:, 0].tolist())


def test_labels_for_chosen_tags_offer_a_pdf(app_for):
    at = app_for(login="teacher01", page=DASHBOARD, lang="en")
    at.text_area(key="ict_label_tags").input("PT-E01-0001, PT-E01-0002").run()
    assert not at.exception
    assert any("2 labels (PDF)" in str(b.proto.label) for b in at.get("download_button"))

"""AppTest: the home and sign-in pages, and what each role's navigation offers."""

from __future__ import annotations

import pytest

ROLE_LOGINS = {
    "resident": "resident01",
    "teacher": "teacher01",
    "school_admin": "schooladmin01",
    "librarian": "librarian01",
    "facility_staff": "facility01",
    "curator": "curator01",
    "city_admin": "admin",
}


def page_titles(at) -> list[str]:
    return [t.value for t in at.title]


def test_home_is_japanese_for_anonymous_visitors(app_for):
    at = app_for()
    assert not at.exception
    assert page_titles(at) == ["学び — 飯塚市 教育・生涯学習ポータル"]
    assert any("サインインなしで" in i.value for i in at.info)


def test_home_switches_to_english(app_for):
    at = app_for(lang="en")
    assert not at.exception
    assert page_titles(at) == ["Manabi — Iizuka City's education and lifelong-learning portal"]


def test_sign_in_page_lists_demo_accounts_and_signs_in(app_for):
    at = app_for(page="../portal/pages/sign_in.py")
    assert not at.exception
    assert "サインイン" in page_titles(at)
    assert any("manabi-demo" in m.value for m in at.markdown)
    at.text_input(key="signin_login").input("teacher01")
    at.text_input(key="signin_password").input("manabi-demo")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert at.session_state["_manabi_session_token"]
    assert any("山田 花子" in c.value for c in at.sidebar.caption)


def test_wrong_password_says_so_and_stores_no_session(app_for):
    at = app_for(page="../portal/pages/sign_in.py")
    at.text_input(key="signin_login").input("teacher01")
    at.text_input(key="signin_password").input("not-the-password")
    at.button[0].click()
    at.run()
    assert [e.value for e in at.error] == ["ログインIDまたはパスワードが違います。"]
    assert "_manabi_session_token" not in at.session_state


@pytest.mark.parametrize("role,login", sorted(ROLE_LOGINS.items()))
def test_each_role_sees_home_and_its_account(app_for, role, login):
    at = app_for(login=login)
    assert not at.exception
    assert page_titles(at) == ["学び — 飯塚市 教育・生涯学習ポータル"]
    at.switch_page("../portal/pages/account.py")
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert login in table.iloc[:, 1].tolist()


def test_admin_pages_open_for_city_admin_only(app_for):
    at = app_for(login="admin", page="../portal/pages/admin_users.py")
    assert not at.exception
    assert page_titles(at) == ["ユーザー管理"]
    at = app_for(login="admin", page="../portal/pages/admin_system.py")
    assert not at.exception
    assert page_titles(at) == ["システム"]


def test_sign_out_ends_the_session(app_for):
    at = app_for(login="resident01")
    at.sidebar.button(key="shell_sign_out").click()
    at.run()
    assert "_manabi_session_token" not in at.session_state
    assert any("サインアウトしました" in i.value for i in at.info)

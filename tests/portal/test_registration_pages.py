"""The sign-up, confirmation, forgotten-password and reset pages, the account page's
resident parts, the counter's list and the retention section, in AppTest on the demo city."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

from portal.runtime import open_runtime

PASSWORD = "kawa-no-nagare-2026"
PAGES = "../portal/pages/"


def last_link(to: str) -> str:
    body = open_runtime().store.scalar(
        "SELECT body_text FROM manabi_outbox WHERE to_address = ? ORDER BY id DESC LIMIT 1", [to])
    return parse_qs(urlparse(re.search(r"https?://\S+", body).group(0)).query)["token"][0]


def sign_up(at, email: str = "hanako@example.jp") -> None:
    at.text_input(key="register_name").input("飯塚 花子")
    at.text_input(key="register_kana").input("いいづか はなこ")
    at.text_input(key="register_address").input("福岡県飯塚市新立岩5-5")
    at.date_input(key="register_birth").set_value(date(1990, 4, 1))
    at.radio(key="register_tie").set_value("lives")
    at.text_input(key="register_email").input(email)
    at.text_input(key="register_password").input(PASSWORD)
    at.text_input(key="register_again").input(PASSWORD)
    at.button[0].click()
    at.run()


def test_sign_up_confirm_and_sign_in_through_the_pages(app_for):
    at = app_for(page=PAGES + "register.py")
    sign_up(at)
    assert not at.error, [e.value for e in at.error]
    assert "hanako@example.jp" in at.success[0].value
    at.switch_page(PAGES + "confirm_email.py")
    at.query_params["token"] = last_link("hanako@example.jp")
    at.run()
    assert "hanako" in at.success[0].value
    at.run()  # a rerun keeps the answer; the link is not used twice
    assert at.success and not at.error
    used = app_for(page=PAGES + "confirm_email.py")  # another visit with the used link
    used.query_params["token"] = last_link("hanako@example.jp")
    used.run()
    assert "使えません" in used.error[0].value and not used.exception
    assert [link.proto.label for link in used.get("page_link")] == ["サインインへ", "利用者登録（はじめての方）"]
    at.switch_page(PAGES + "sign_in.py")
    at.run()
    at.text_input(key="signin_login").input("hanako@example.jp")
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click()
    at.run()
    assert not at.error
    at.switch_page(PAGES + "account.py")
    at.run()
    assert not at.exception
    assert any("窓口" in i.value for i in at.info)  # residence waits for the counter


def test_sign_up_form_says_what_is_missing_or_wrong(app_for):
    at = app_for(page=PAGES + "register.py", lang="en")
    at.button[0].click()
    at.run()
    assert at.warning[0].value == "Please fill in every field."
    sign_up(at, email="not-an-address")
    assert "is not an e-mail address" in at.error[0].value


def test_forgot_password_answers_the_same_for_any_address(app_for):
    at = app_for(page=PAGES + "forgot_password.py", lang="en")
    answers = []
    for email in ("resident01@example.jp", "nobody@example.jp"):
        at.text_input(key="forgot_email").input(email)
        at.button[0].click()
        at.run()
        answers.append(at.success[0].value.replace(email, "…"))
    assert answers[0] == answers[1]


def test_reset_page_sets_a_new_password_and_refuses_a_used_link(app_for):
    at = app_for(page=PAGES + "register.py")
    sign_up(at)
    email = "hanako@example.jp"
    at.switch_page(PAGES + "forgot_password.py")
    at.run()
    at.text_input(key="forgot_email").input(email)
    at.button[0].click()
    at.run()
    token = last_link(email)
    at.switch_page(PAGES + "reset_password.py")
    at.query_params["token"] = token
    at.run()
    at.text_input(key="reset_new").input("brand-new-secret-9")
    at.text_input(key="reset_again").input("brand-new-secret-9")
    at.button[0].click()
    at.run()
    assert "hanako" in at.success[0].value
    fresh = app_for(page=PAGES + "reset_password.py")
    fresh.query_params["token"] = token
    fresh.run()
    assert "使えません" in fresh.error[0].value
    # The page shows the way on: a new link.
    assert not fresh.exception
    assert [link.proto.label for link in fresh.get("page_link")] == ["パスワードを忘れた方"]


def test_counter_staff_find_and_confirm_a_registration(app_for):
    at = app_for(page=PAGES + "register.py")
    sign_up(at)
    at.switch_page(PAGES + "confirm_email.py")
    at.query_params["token"] = last_link("hanako@example.jp")
    at.run()
    staff = app_for(login="facility01", page=PAGES + "registrations.py")
    assert not staff.exception
    staff.text_input(key="registrations_search").input("はなこ")
    staff.run()
    assert staff.dataframe[0].value.shape[0] == 1
    staff.text_input(key="registrations_note").input("運転免許証")
    staff.button[0].click()
    staff.run()
    assert not staff.exception
    assert "飯塚 花子" in staff.success[0].value
    assert staff.info[0].value == "該当する登録はありません。"


def test_system_page_lists_the_retention_rules(app_for):
    from portal.services import retention

    runtime = open_runtime()
    at = app_for(login="admin", page=PAGES + "admin_system.py")
    table = at.table[-1].value
    assert len(table) == len(retention.RULES)
    assert set(table["前回の実行"]) == {"未実行"}
    assert "1 年" in set(table["保存期間"])
    # A demo pupil the roster says left 5 years and a day ago (fixture), with learning records.
    today = runtime.clock.now().date()
    pupil = runtime.store.scalar("SELECT learner_id FROM analytics_statements s JOIN portal_roster_pupils p "
                                 "ON p.sourced_id = s.learner_id GROUP BY ALL ORDER BY count(*) DESC LIMIT 1")
    left_on = retention.first_kept_day(today, retention.PUPIL_RECORDS_KEPT) - timedelta(days=1)
    runtime.store.cursor().execute("UPDATE portal_roster_pupils SET status = 'left', left_on = ? WHERE sourced_id = ?",
                                   [left_on, pupil])
    removed = retention.apply(runtime.store, runtime.clock)
    assert removed["pupil_records"] > 0
    at.run()
    table = at.table[-1].value
    assert "未実行" not in set(table["前回の実行"])
    # Every rule applied (the modules offering theirs); the pupils' records with what went.
    assert not any("未適用" in str(v) for v in table["消去した件数"])
    shown = dict(zip(table["対象"], table["消去した件数"], strict=True))
    assert shown["卒業・転出した児童生徒の学習記録"] == f"{removed['pupil_records']:,}"

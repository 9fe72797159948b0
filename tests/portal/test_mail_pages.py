"""AppTest: a person's mail choices on their account page, and the outbox on the city
administrator's system page (mail waiting because no SMTP server is set)."""

from __future__ import annotations

import pytest

from kernel.store import Store
from portal.runtime import forget_runtimes

ACCOUNT = "../portal/pages/account.py"
SYSTEM = "../portal/pages/admin_system.py"


@pytest.fixture
def no_smtp(monkeypatch):
    for name in ("HOST", "PORT", "USER", "PASSWORD", "FROM", "STARTTLS"):
        monkeypatch.delenv(f"MANABI_SMTP_{name}", raising=False)
    monkeypatch.setenv("MANABI_CONFIG", "/nonexistent/manabi.toml")


def stored(db, sql: str, params=None) -> list[tuple]:
    forget_runtimes()  # the AppTest's runtime holds the file
    store = Store(db)
    try:
        return store.query(sql, params)
    finally:
        store.close()


def test_a_resident_chooses_language_and_kinds_and_they_are_kept(app_for, fresh_demo_db):
    at = app_for("resident01", ACCOUNT)
    assert not at.exception
    assert "メールでのお知らせ" in [s.value for s in at.subheader]
    boxes = {c.label: c for c in at.checkbox}
    assert "予約した電子書籍が借りられるようになったとき" in boxes
    assert "報告した端末の修理が終わったとき" not in boxes  # a teacher's, not a resident's
    # Every kind is on until turned off.
    assert all(c.value for c in at.checkbox if (c.key or "").startswith("mail_kind_"))
    assert at.radio(key="mail_lang").value == "ja"  # proposed: the page's language
    boxes["抽選に落選したとき"].uncheck()
    at.radio(key="mail_lang").set_value("en")
    next(b for b in at.button if b.label == "保存する").click()
    at.run()
    assert not at.exception
    assert "お知らせの設定を保存しました。" in [s.value for s in at.success]
    user_id = stored(fresh_demo_db, "SELECT id FROM portal_users WHERE login = 'resident01'")[0][0]
    assert stored(fresh_demo_db, "SELECT lang FROM portal_mail_settings WHERE user_id = ?", [user_id]) == [("en",)]
    assert stored(fresh_demo_db, "SELECT kind FROM portal_mail_optouts WHERE user_id = ?", [user_id]) == [
        ("facilities.lottery_lost",)]


def test_the_system_page_says_mail_waits_without_smtp(app_for, fresh_demo_db, no_smtp):
    store = Store(fresh_demo_db)
    store.cursor().execute(
        """INSERT INTO manabi_outbox (created_at, kind, to_address, lang, subject, body_text, status, attempts,
                                      next_attempt_at, last_error)
           VALUES (now(), 'facilities.booking_made', 'a@example.jp', 'ja', 's', 'b', 'queued', 0, now(), NULL),
                  (now(), 'facilities.booking_made', 'refused@example.jp', 'ja', 's', 'b', 'failed', 1, now(),
                   'refused@example.jp: 550 5.1.1 No such mailbox')""")
    store.close()
    at = app_for("admin", SYSTEM)
    assert not at.exception
    [warning] = [w.value for w in at.warning]
    assert "SMTP サーバーが設定されていない" in warning and "MANABI_SMTP_HOST, MANABI_SMTP_FROM" in warning
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["送信待ち"], metrics["送信済み"], metrics["送信失敗"]) == ("1", "0", "1")
    failures = at.dataframe[-1].value
    assert list(failures["宛先"]) == ["refused@example.jp"]
    assert "550 5.1.1" in failures["エラー"][0]

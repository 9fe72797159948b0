"""The real thing: a resident registers in Chromium, opens the link mailed to them, signs in,
then forgets the password and sets a new one through the reset link.

Mails are read by a `Mailbox`. Today's reads the outbox table the server writes (the server
holds the database file, so it is stopped for the read and started again on the same port);
once the server delivers mail over SMTP, a mailbox fed by a local SMTP server (aiosmtpd) can
take its place without changing the flow below.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kernel.store import Store
from tests.conftest import free_port, start_server, stop_server

pytestmark = pytest.mark.e2e
PASSWORD = "kawa-no-nagare-2026"
EMAIL = "hanako.e2e@example.jp"


class OutboxMailbox:
    """The server's outbox as a mailbox: `link(to, path)` is the newest link to `path` mailed
    to `to`."""

    def __init__(self, db: Path, log: Path) -> None:
        self.db, self.log, self.port = db, log, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> None:
        self.process, _ = start_server(self.db, self.log, port=self.port, MANABI_BASE_URL=self.base)

    def stop(self) -> None:
        if self.process is not None:
            stop_server(self.process, signal.SIGTERM)
            self.process = None

    def link(self, to: str, path: str) -> str:
        self.stop()
        store = Store(self.db, read_only=True)
        try:
            bodies = [b for (b,) in store.query(
                "SELECT body_text FROM manabi_outbox WHERE to_address = ? ORDER BY id DESC", [to])]
        finally:
            store.close()
        self.start()
        for body in bodies:
            found = re.search(rf"{re.escape(self.base)}/{path}\?\S+", body)
            if found:
                return found.group(0)
        raise AssertionError(f"no mail to {to} with a /{path} link")


@pytest.fixture
def mailbox(fresh_demo_db, tmp_path):
    box = OutboxMailbox(fresh_demo_db, tmp_path / "server.log")
    box.start()
    yield box
    box.stop()


def sign_in_as(page: Page, base: str, login: str, password: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("ログインID").fill(login)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()


def test_register_confirm_sign_in_then_reset_the_password(mailbox, page: Page, artifacts):
    base = mailbox.base
    page.goto(f"{base}/sign-in")
    page.get_by_role("link", name="利用者登録（はじめての方）").click()
    expect(page.get_by_role("heading", name="利用者登録")).to_be_visible(timeout=30_000)
    page.get_by_label("お名前").fill("飯塚 花子")
    page.get_by_label("ふりがな").fill("いいづか はなこ")
    page.get_by_label("住所").fill("福岡県飯塚市新立岩5-5")
    for part, value in (("year", "1990"), ("month", "04"), ("day", "01")):  # the date field's segments
        page.get_by_role("spinbutton", name=f"{part}, 生年月日").click()
        page.keyboard.type(value)
    page.get_by_text("市内に住んでいる").click()
    page.get_by_label("メールアドレス").fill(EMAIL)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_label("パスワード（確認）").fill(PASSWORD)
    page.screenshot(path=artifacts / "portal-register-form.png", full_page=True)
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_text(f"{EMAIL} に確認のメールをお送りしました")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "portal-register-sent.png", full_page=True)

    # Not before the address is confirmed.
    sign_in_as(page, base, EMAIL, PASSWORD)
    expect(page.get_by_text("メールアドレスの確認がまだ済んでいません")).to_be_visible(timeout=30_000)

    page.goto(mailbox.link(EMAIL, "confirm-email"))
    expect(page.get_by_text("メールアドレスを確認しました")).to_be_visible(timeout=60_000)
    page.screenshot(path=artifacts / "portal-register-confirmed.png", full_page=True)
    sign_in_as(page, base, EMAIL, PASSWORD)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("飯塚 花子 さんでサインイン中")).to_be_visible(timeout=30_000)
    sidebar.get_by_role("button", name="サインアウト").click()
    expect(sidebar.get_by_role("link", name="サインイン")).to_be_visible(timeout=30_000)

    # Forgot the password: the page answers, the mail holds a link valid 30 minutes.
    page.goto(f"{base}/sign-in")
    page.get_by_role("link", name="パスワードを忘れた方").click()
    page.get_by_label("メールアドレス").fill(EMAIL)
    page.get_by_role("button", name="リンクを送る").click()
    expect(page.get_by_text("パスワード再設定のリンクをお送りしました")).to_be_visible(timeout=30_000)

    page.goto(mailbox.link(EMAIL, "reset-password"))
    expect(page.get_by_role("heading", name="パスワードの再設定")).to_be_visible(timeout=60_000)
    page.get_by_label("新しいパスワード", exact=True).fill("brand-new-secret-9")
    page.get_by_label("新しいパスワード（確認）").fill("brand-new-secret-9")
    page.get_by_role("button", name="設定する").click()
    expect(page.get_by_text("パスワードを設定しました")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "portal-reset-done.png", full_page=True)

    sign_in_as(page, base, EMAIL, PASSWORD)
    expect(page.get_by_text("ログインIDまたはパスワードが違います。")).to_be_visible(timeout=30_000)
    sign_in_as(page, base, EMAIL, "brand-new-secret-9")
    expect(page.get_by_test_id("stSidebar").get_by_text("飯塚 花子 さんでサインイン中")).to_be_visible(timeout=30_000)
    # Through the sidebar, in the same session (a typed address may come before the cookie).
    page.get_by_test_id("stSidebar").get_by_role("link", name="マイアカウント").click()
    pending = page.get_by_text("居住の確認待ち")
    expect(pending).to_be_visible(timeout=30_000)
    pending.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "portal-account-resident.png")

    # At a counter, facility staff find the registration and confirm residence.
    page.get_by_test_id("stSidebar").get_by_role("button", name="サインアウト").click()
    expect(page.get_by_test_id("stSidebar").get_by_role("link", name="サインイン")).to_be_visible(timeout=30_000)
    sign_in_as(page, base, "facility01", "manabi-demo")
    expect(page.get_by_test_id("stSidebar").get_by_text("さんでサインイン中")).to_be_visible(timeout=30_000)
    page.get_by_test_id("stSidebar").get_by_role("link", name="利用者登録の確認").click()
    expect(page.get_by_role("heading", name="利用者登録の確認（窓口）")).to_be_visible(timeout=60_000)
    page.get_by_label("検索（名前・ふりがな・メール・住所）").fill("はなこ")
    page.get_by_label("検索（名前・ふりがな・メール・住所）").press("Enter")
    page.get_by_label("確認した書類（例: 運転免許証）").fill("運転免許証")
    page.screenshot(path=artifacts / "portal-registrations.png")
    page.get_by_role("button", name="確認済みにする").click()
    expect(page.get_by_text("飯塚 花子 さんの居住を確認しました。")).to_be_visible(timeout=30_000)

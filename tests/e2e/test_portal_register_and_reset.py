"""The real thing: a resident registers in Chromium, opens the link mailed to them, signs in,
then forgets the password and sets a new one through the reset link.

`manabi serve` sends its mail over SMTP to a real SMTP server (aiosmtpd) started by the test;
the links are read from the messages it received, decoded as a mail program would (MIME,
plain-text part, Japanese), and must be absolute links under MANABI_BASE_URL.
"""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import free_port, start_server, stop_server
from tests.portal.smtp_sink import SmtpSink, plain_text

pytestmark = pytest.mark.e2e
PASSWORD = "kawa-no-nagare-2026"
EMAIL = "hanako.e2e@example.jp"
SENDER = "manabi@city.iizuka.example"


def read(message: EmailMessage) -> str:
    """The plain-text part as a person reads it (text travels with CRLF line ends)."""
    return plain_text(message).replace("\r\n", "\n")


class SmtpMailbox:
    """The mails the server delivered to the sink: `message(to, path)` waits for the newest
    mail to `to` holding a link to `path` and returns it with that link."""

    def __init__(self, sink: SmtpSink, base: str) -> None:
        self.sink, self.base = sink, base

    def message(self, to: str, path: str, timeout: float = 60) -> tuple[EmailMessage, str]:
        pattern = re.compile(rf"{re.escape(self.base)}/{path}\?\S+")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.sink.messages()):
                if parseaddr(message["To"])[1] != to:
                    continue
                found = pattern.search(read(message))
                if found:
                    return message, found.group(0)
            time.sleep(0.2)
        raise AssertionError(f"no mail to {to} with a {self.base}/{path} link; "
                             f"the SMTP server got {[m['Subject'] for m in self.sink.messages()]}")


@pytest.fixture
def mailbox(fresh_demo_db, tmp_path):
    # The links must open this very server, so its port is chosen before it starts.
    port, smtp_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    with SmtpSink(smtp_port) as sink:
        process, _ = start_server(
            fresh_demo_db, tmp_path / "server.log", port=port, MANABI_BASE_URL=base,
            MANABI_SMTP_HOST="127.0.0.1", MANABI_SMTP_PORT=str(smtp_port),
            MANABI_SMTP_FROM=f"学び 飯塚市 <{SENDER}>", MANABI_MAIL_POLL_SECONDS="0.5")
        try:
            yield SmtpMailbox(sink, base)
        finally:
            stop_server(process)


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
    page.screenshot(path=artifacts / "portal-register-empty.png", full_page=True)
    page.get_by_label("お名前").fill("飯塚 花子")
    page.get_by_label("ふりがな").fill("いいづか はなこ")
    page.get_by_label("住所").fill("福岡県飯塚市新立岩5-5")
    for part, value in (("年", "1990"), ("月", "04"), ("日", "01")):  # the date field's segments, named in Japanese
        page.get_by_role("spinbutton", name=f"{part}、生年月日").click()
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

    mail, link = mailbox.message(EMAIL, "confirm-email")
    assert mail["Subject"] == "【学び 飯塚市】メールアドレスの確認"
    assert parseaddr(mail["From"]) == ("学び 飯塚市", SENDER)
    assert mail.get_content_charset() == "utf-8"
    text = read(mail)
    assert text.startswith("飯塚 花子 様\n") and "24 時間以内に開くと登録が完了します" in text
    assert re.search(r"ログインID: [a-z0-9._-]+（メールアドレスでもサインインできます）", text)
    assert text.endswith(f"\n{base}\nこのメールは送信専用です。返信いただいてもお答えできません。\n")
    page.goto(link)
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
    # The reset page first: under load the fill could land in the sign-in page before it goes.
    expect(page.get_by_role("button", name="リンクを送る")).to_be_visible(timeout=30_000)
    page.get_by_label("メールアドレス").fill(EMAIL)
    page.get_by_role("button", name="リンクを送る").click()
    expect(page.get_by_text("パスワード再設定のリンクをお送りしました")).to_be_visible(timeout=30_000)

    mail, link = mailbox.message(EMAIL, "reset-password")
    assert mail["Subject"] == "【学び 飯塚市】パスワードの再設定"
    text = read(mail)
    assert text.startswith("飯塚 花子 様\n") and "30 分以内に開き" in text
    page.goto(link)
    expect(page.get_by_role("heading", name="パスワードの再設定")).to_be_visible(timeout=60_000)
    page.get_by_label("新しいパスワード", exact=True).fill("brand-new-secret-9")
    page.get_by_label("新しいパスワード（確認）").fill("brand-new-secret-9")
    page.screenshot(path=artifacts / "portal-reset-form.png", full_page=True)
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

"""A resident looks up vacancy, books a room, pays by the QR provider, and cancels — in Chromium
against the real server. The test plays the QR-payment provider (a signed callback)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from facilities.services import payments, vacancy
from kernel.clock import SystemClock
from kernel.store import Store
from tests.facilities.live_server import PAYMENT_SECRET, serve


@pytest.fixture(scope="module")
def live(demo_db, tmp_path_factory):
    """The server over a copy of the demo city, and a slot that is free there."""
    folder = tmp_path_factory.mktemp("facilities-e2e")
    db = folder / "e2e.duckdb"
    shutil.copy(demo_db, db)
    store, clock = Store(db), SystemClock()
    today = clock.now().date()
    match = vacancy.search(store, clock, people=4, days=[today + timedelta(days=n) for n in range(20, 30)],
                           blocks=["pm"], kind="centre")[0]
    store.close()
    with serve(db, folder) as base:
        yield base, match


def _choose(page: Page, label: str, text: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


@pytest.mark.e2e
def test_look_up_book_pay_and_cancel(live, page: Page, artifacts):
    base, match = live
    page.set_viewport_size({"width": 1400, "height": 1000})

    # Anyone can look up vacancy.
    page.goto(f"{base}/facilities")
    expect(page.locator("h1")).to_have_text("施設の空き状況")
    expect(page.get_by_text("○ 空き")).to_be_visible()

    # Sign in through the form.
    page.goto(f"{base}/sign-in")
    page.get_by_label("ログインID").fill("resident08")
    page.get_by_label("パスワード").fill("manabi-demo")
    page.keyboard.press("Enter")
    expect(page.get_by_text("サインアウト")).to_be_visible()

    # Book the free slot; the fee is shown before booking.
    page.locator('[data-testid="stSidebarNav"] a[href$="/facilities-book"]').click()
    expect(page.locator("h1")).to_have_text("施設を予約する")
    _choose(page, "施設と部屋", f"{match.facility.name_ja} — {match.room.name_ja}")
    day = page.locator('[data-testid="stDateInput"] input')
    day.fill(match.day.isoformat())
    day.press("Enter")
    _choose(page, "時間帯", "午後")
    expect(page.locator('[data-testid="stMetricValue"]')).to_contain_text("￥")
    page.get_by_role("button", name="予約する").click()

    # My bookings: the booking, what is owed, and the QR code with the payment reference.
    expect(page.locator("h1")).to_have_text("わたしの施設予約")
    expect(page.get_by_text(re.compile(f"予約しました: {match.facility.name_ja} {match.room.name_ja} .* 午後"))).to_be_visible()
    expect(page.locator('[data-testid="stImage"] img').first).to_be_visible()
    text = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    reference = re.search(r"支払番号\s*(MNB-[0-9A-F]{12})", text)[1]
    amount = int(re.search(r"金額\s*￥([\d,]+)", text)[1].replace(",", ""))
    page.screenshot(path=str(artifacts / "facilities-booked-qr.png"), full_page=True)

    # The QR provider calls back, signed; the resident checks and sees it paid.
    body = json.dumps({"reference": reference, "amount": amount, "transaction_id": f"E2E-{reference}"}).encode()
    answer = httpx.post(f"{base}/payments/callback", content=body,
                        headers={payments.SIGNATURE_HEADER: payments.sign(body, PAYMENT_SECRET)}, timeout=10)
    assert answer.status_code == 200, answer.text
    page.get_by_role("button", name="支払状況を確認").click()
    expect(page.get_by_text("を受け取りました")).to_be_visible()
    expect(page.get_by_role("button", name="領収書（PDF）")).to_be_visible()

    # Cancel: early enough for a full refund.
    page.get_by_text("この予約を取り消します").click()
    page.get_by_role("button", name="予約を取り消す").click()
    expect(page.get_by_text(f"予約を取り消しました。返金額 ￥{amount:,}")).to_be_visible()
    page.screenshot(path=str(artifacts / "facilities-cancelled.png"), full_page=True)

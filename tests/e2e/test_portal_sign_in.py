"""The real thing: `manabi serve`, Debian's Chromium, a teacher signing in and out."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_healthz_reports_the_schema(server):
    answer = httpx.get(f"{server}/healthz", timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["schema"]["portal"] >= 1
    assert body["schema_version"] == sum(body["schema"].values())


def test_teacher_signs_in_switches_to_english_and_signs_out(server, page: Page, artifacts):
    page.goto(f"{server}/sign-in")
    expect(page.get_by_role("heading", name="サインイン")).to_be_visible(timeout=30_000)
    page.get_by_label("ログインID").fill("teacher01")
    page.get_by_label("パスワード").fill("manabi-demo")
    page.get_by_role("button", name="サインイン").click()

    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("山田 花子 (飯塚小) さんでサインイン中")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name=re.compile("飯塚市 教育・生涯学習ポータル"))).to_be_visible()
    page.screenshot(path=artifacts / "portal-teacher-ja.png", full_page=True)

    sidebar.get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Iizuka City's education"))).to_be_visible(timeout=30_000)
    expect(sidebar.get_by_text("Signed in as 山田 花子 (飯塚小)")).to_be_visible()
    page.screenshot(path=artifacts / "portal-teacher-en.png", full_page=True)
    page.reload()  # the language is kept in the address, the session in a cookie
    expect(sidebar.get_by_text("Signed in as 山田 花子 (飯塚小)")).to_be_visible(timeout=30_000)

    sidebar.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible(timeout=30_000)
    expect(sidebar.get_by_role("link", name="Sign in")).to_be_visible()
    page.screenshot(path=artifacts / "portal-signed-out-en.png", full_page=True)


def test_wrong_password_is_refused_in_the_browser(server, page: Page):
    page.goto(f"{server}/sign-in")
    page.get_by_label("ログインID").fill("resident01")
    page.get_by_label("パスワード").fill("wrong-password")
    page.get_by_role("button", name="サインイン").click()
    expect(page.get_by_text("ログインIDまたはパスワードが違います。")).to_be_visible(timeout=30_000)


def test_a_reload_keeps_the_visitor_signed_in_until_they_sign_out(server, page: Page):
    page.goto(f"{server}/sign-in")
    page.get_by_label("ログインID").fill("librarian01")
    page.get_by_label("パスワード").fill("manabi-demo")
    page.get_by_role("button", name="サインイン").click()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("図書館司書 佐藤 さんでサインイン中")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(500)  # the cookie request follows the signed-in page
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["manabi_session"]["httpOnly"] is True

    page.reload()
    expect(sidebar.get_by_text("図書館司書 佐藤 さんでサインイン中")).to_be_visible(timeout=30_000)

    sidebar.get_by_role("button", name="サインアウト").click()
    expect(page.get_by_text("サインアウトしました。")).to_be_visible(timeout=30_000)
    page.reload()
    expect(sidebar.get_by_role("link", name="サインイン")).to_be_visible(timeout=30_000)
    expect(sidebar.get_by_text("さんでサインイン中")).to_have_count(0)

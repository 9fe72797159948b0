"""The real thing: a resident finds the online-safety course, registers, and joins its
running online session with one click; the join link carries a token for that room only."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from playwright.sync_api import Page, expect

from facilities.services import meetings
from tests.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_resident_registers_and_gets_a_join_link(server, page: Page, artifacts):
    page.set_viewport_size({"width": 1300, "height": 1400})
    sidebar = sign_in(page, server, "resident01")

    sidebar.get_by_role("link", name="講座・オンライン講座").click()
    expect(page.get_by_role("heading", name="講座・オンライン講座")).to_be_visible(timeout=30_000)
    course = page.locator(".st-key-course_" + str(_course_id(page, "インターネット安全教室（オンライン）")))
    course.get_by_role("button", name="申し込む").click()
    expect(page.get_by_text("申し込みました。受講が確定しました。")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "courses-registered-ja.png", full_page=True)

    sidebar.get_by_role("link", name="受講中の講座").click()
    expect(page.get_by_role("heading", name="受講中の講座")).to_be_visible(timeout=30_000)
    # One click: the join button is itself the link into the room (README: one-click join).
    join = page.get_by_role("link", name="オンラインで参加").first
    expect(join).to_be_visible(timeout=30_000)
    expect(page.get_by_text("参加のリンクはあなた専用です", exact=False).first).to_be_visible()
    assert join.get_attribute("target") == "_blank"
    page.screenshot(path=artifacts / "courses-join-link-ja.png", full_page=True)

    # What the click does, with this browser's own session cookie: straight on to the room.
    answer = page.request.get(server + join.get_attribute("href"), max_redirects=0)
    assert answer.status == 303
    url = answer.headers["location"]
    assert url.startswith(meetings.DEMO_URL + "/course-net-safety-")
    claims = jwt.decode(parse_qs(urlsplit(url).query)["jwt"][0], meetings.DEMO_SECRET, algorithms=["HS256"],
                        audience="jitsi", options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
    assert claims["room"] == urlsplit(url).path.lstrip("/")
    assert claims["context"]["user"]["affiliation"] == "member"

    # Without a session the same address leads to sign-in; a session not one's own, to words.
    anonymous = httpx.get(server + join.get_attribute("href"), follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/sign-in")
    other = page.request.get(f"{server}/courses/join/999999", max_redirects=0)
    assert other.status == 404
    assert "会議室に入れませんでした" in other.text() and '<html lang="ja">' in other.text()

def _course_id(page: Page, title: str) -> int:
    """The course's container key, found from its heading (keys are st-key-course_<id>)."""
    heading = page.get_by_role("heading", name=title)
    container = heading.locator("xpath=ancestor::div[contains(@class, 'st-key-course_')][1]")
    key = next(c for c in container.get_attribute("class").split() if c.startswith("st-key-course_"))
    return int(key.removeprefix("st-key-course_"))

"""The real thing: a learning app posts a statement over xAPI, then the teacher opens the
class heatmap in Chromium, reads why a pupil may need help and drills down to them."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from analytics.demo import DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET
from kernel.store import Store
from tests.conftest import TEST_NOW, sign_in

pytestmark = pytest.mark.e2e


def test_teacher_reads_the_class_heatmap_and_a_pupils_timeline(server, demo_db, page: Page, artifacts):
    # A drill app reports a new attempt for pupil P-E01-0001 (grade 1, class 1 of 飯塚小: teacher01's homeroom).
    statement = {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://manabi.city.iizuka.lg.jp", "name": "P-E01-0001"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"},
        "object": {"id": "https://manabi.city.iizuka.lg.jp/xapi/activities/units/8101001110000000/test",
                   "definition": {"name": {"ja": "ブラウザテストの小テスト"}}},
        "result": {"score": {"scaled": 0.1}, "success": False, "duration": "PT7M"},
        "timestamp": f"{TEST_NOW[:10]}T09:30:00+09:00",  # this morning, by the suite's pinned clock
    }
    answer = httpx.post(f"{server}/xapi/statements", json=statement, auth=(DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET),
                        headers={"X-Experience-API-Version": "1.0.3"}, timeout=30)
    assert answer.status_code == 200

    page.set_viewport_size({"width": 1400, "height": 1200})
    sidebar = sign_in(page, server, "teacher01")

    sidebar.get_by_role("link", name="学習ダッシュボード").click()
    expect(page.get_by_role("heading", name="学習ダッシュボード")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("児童生徒 × 単元の習熟度（平均スコア）")).to_be_visible()
    heatmap = page.get_by_test_id("stVegaLiteChart").first
    expect(heatmap).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "analytics-class-heatmap-ja.png", full_page=True)

    page.get_by_role("tab", name="要支援・活動状況").click()
    expect(page.get_by_text("判定の規則")).to_be_visible()

    page.get_by_role("tab", name="個人の記録").click()
    page.get_by_role("tabpanel", name="個人の記録").get_by_role("combobox").click()
    # teacher01 is the class teacher: the pupil is named as on the demo's school roster.
    roster = Store(demo_db, read_only=True)
    try:
        name, kana = roster.query("SELECT family_name || ' ' || given_name, kana_family || ' ' || kana_given "
                                  "FROM portal_roster_pupils WHERE sourced_id = 'P-E01-0001'")[0]
    finally:
        roster.close()
    page.get_by_role("option", name=f"{name}（{kana}）").click()
    # The table draws on a canvas; its cells exist for screen readers, not as visible text.
    expect(page.locator("td[role=gridcell]", has_text="ブラウザテストの小テスト").first).to_be_attached(timeout=30_000)
    page.screenshot(path=artifacts / "analytics-pupil-timeline-ja.png", full_page=True)


def test_switching_language_words_the_chosen_grade_and_subject_again(server, page: Page, artifacts):
    # Streamlit keeps a keyed choice across the switch, but the browser went on showing its
    # label in the old language ("2年" on the English page) until the shell wrote it back.
    page.set_viewport_size({"width": 1400, "height": 1200})
    sidebar = sign_in(page, server, "admin")
    sidebar.get_by_role("link", name="学習状況（学校比較）").click()
    expect(page.get_by_role("heading", name="学習状況（学校比較）")).to_be_visible(timeout=30_000)
    page.get_by_role("combobox", name="学年").click()
    page.get_by_role("option", name="2年").click()
    expect(page.get_by_role("combobox", name="学年")).to_have_value("2年", timeout=30_000)
    page.get_by_role("combobox", name="教科").click()
    page.get_by_role("option", name="算数・数学").click()
    expect(page.get_by_role("combobox", name="教科")).to_have_value("算数・数学", timeout=30_000)

    sidebar.get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="Learning across schools")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("combobox", name="Grade")).to_have_value("Grade 2", timeout=30_000)
    expect(page.get_by_role("combobox", name="Subject")).to_have_value("Mathematics")
    page.screenshot(path=artifacts / "analytics-board-en.png", full_page=True)

    sidebar.get_by_text("日本語", exact=True).click()
    expect(page.get_by_role("heading", name="学習状況（学校比較）")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("combobox", name="学年")).to_have_value("2年", timeout=30_000)
    expect(page.get_by_role("combobox", name="教科")).to_have_value("算数・数学")

"""The yearly review: composes module indicators, compares with last year, exports."""

from __future__ import annotations

from datetime import date

import pytest

from kernel.actor import ANONYMOUS, SYSTEM, Actor, Role
from kernel.errors import PermissionDenied
from kernel.i18n import Translator
from kernel.indicators import Indicator, fiscal_year, fiscal_year_bounds
from portal.runtime import catalogue
from portal.services import review


def test_fiscal_years_start_in_april():
    assert fiscal_year(date(2026, 3, 31)) == 2025
    assert fiscal_year(date(2026, 4, 1)) == 2026
    assert fiscal_year_bounds(2026) == (date(2026, 4, 1), date(2027, 4, 1))


def test_only_city_and_school_admins_may_open_the_review(store, clock):
    with pytest.raises(PermissionDenied):
        review.review(store, clock, ANONYMOUS)
    with pytest.raises(PermissionDenied):
        review.review(store, clock, Actor(user_id=5, roles=frozenset({Role.TEACHER}), school_id=1))
    year, rows = review.review(store, clock, SYSTEM)
    today = clock.now().date()
    assert year == (today.year if today.month >= 4 else today.year - 1)  # the fiscal year of "now"
    assert all(r.measure for r in rows)


ROWS = [
    review.ReviewRow("4-2-5", Indicator("4-2-5", "review.measure_4_2_5", "review.unit.per_1000",
                                        ((2024, 80.0), (2025, 95.5), (2026, 120.0)), target=150.0), 120.0, 95.5),
    review.ReviewRow("4-1-1", Indicator("4-1-1", "review.measure_4_1_1", "review.unit.percent",
                                        ((2025, 97.0), (2026, None))), None, 97.0),
]


def test_csv_has_both_years_in_japanese_with_a_bom():
    t = Translator("ja", catalogue(), strict=True)
    text = review.as_csv(ROWS, 2026, t).decode("utf-8")
    assert text.startswith("\ufeff施策,指標,単位,2026 年度,2025 年度,目標")
    # The comma in the unit is quoted.
    assert '4-2-5,ICTを活用した生涯学習事業の推進,"市民1,000人あたり",120,95.5,150' in text
    assert ROWS[0].change == pytest.approx(24.5)
    assert ROWS[1].change is None


def test_png_report_renders():
    t = Translator("en", catalogue(), strict=True)
    png = review.as_png(ROWS, 2026, t)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 5_000


def test_every_module_offers_indicators_for_every_measure(store, clock):
    from kernel.indicators import MEASURES

    year, rows = review.review(store, clock, SYSTEM)
    assert {r.measure for r in rows} == set(MEASURES)
    t = Translator("en", catalogue(), strict=True)
    for row in rows:
        assert t(row.indicator.key) and t(row.indicator.unit)
        assert [y for y, _ in row.indicator.series] == [year - 2, year - 1, year]


def test_review_page_shows_each_measure_for_the_city_admin(app_for):
    at = app_for(login="admin", page="../portal/pages/review.py")
    assert not at.exception
    assert [x.value for x in at.title] == ["年次評価（施策の点検）"]
    headers = [h.value for h in at.subheader]
    assert "4-2-5 ICTを活用した生涯学習事業の推進" in headers
    assert "4-1-1 教育用ICT機器等の活用推進" in headers
    assert len(at.metric) >= 9


def test_school_admins_see_the_review_and_teachers_do_not(app_for):
    at = app_for(login="schooladmin01", page="../portal/pages/review.py")
    assert not at.exception
    assert [x.value for x in at.title] == ["年次評価（施策の点検）"]
    teacher = app_for(login="teacher01")
    offered = {p.url_path for pages in teacher.session_state["_manabi_nav_pages"].values() for p in pages}
    assert "review" not in offered


def test_an_indicator_without_data_is_a_sentence_and_counts_are_whole_numbers():
    import re

    import vl_convert

    from kernel.charts import localized

    t = Translator("ja", catalogue(), strict=True)
    empty = review.ReviewRow("4-1-2", Indicator("4-1-2", "review.measure_4_1_2", "review.unit.count",
                                                ((2024, None), (2025, None), (2026, None))), None, None)
    assert not empty.has_data and empty.change is None
    texts = re.findall(r">([^<]+)</text>", vl_convert.vegalite_to_svg(
        localized(review.trend_chart(empty, t), "ja").to_dict()))
    assert "この指標のデータはまだありません" in texts
    assert not [x for x in texts if re.fullmatch(r"-?\d+\.\d{4,}", x)]  # no axis of "0.000000"
    # A year without data is a gap in the line, and the axis still shows it.
    partial = review.ReviewRow("4-1-1", Indicator("4-1-1", "review.measure_4_1_1", "review.unit.count",
                                                  ((2024, None), (2025, None), (2026, 4983.0))), 4983.0, None)
    texts = re.findall(r">([^<]+)</text>", vl_convert.vegalite_to_svg(
        localized(review.trend_chart(partial, t), "ja").to_dict()))
    assert {"2024", "2025", "2026"} <= set(texts)
    assert partial.change is None  # no data last year: no "+4,983"
    text = review.as_csv([partial, empty], 2026, t).decode("utf-8-sig")
    assert "4-1-1,教育用ICT機器等の活用推進,件,4983,," in text
    assert "4983.0" not in text

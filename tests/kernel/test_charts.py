"""Every chart in the page's language and in colours everyone can tell apart: the spec
rendered by Vega itself (vl-convert), and the pages checked for charts that skip the helper."""

from __future__ import annotations

import re
from pathlib import Path

import altair as alt
import vl_convert

from kernel.charts import CATEGORY_COLOURS, chart_config, localized, vega_locale

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("analytics", "archive", "facilities", "library_ebooks", "portal", "school_ict")


def rendered_texts(chart: alt.TopLevelMixin) -> list[str]:
    return re.findall(r">([^<]+)</text>", vl_convert.vegalite_to_svg(chart.to_dict()))


def time_chart(days: list[str]) -> alt.Chart:
    data = alt.Data(values=[{"day": day, "cost": 1_234_567 * (n + 1)} for n, day in enumerate(days)])
    return alt.Chart(data).mark_line().encode(x=alt.X("day:T", title="週"), y=alt.Y("cost:Q", title="費用"))


# September to November by week (the "Sep 06 … November, Nov 08"), and a span into a new year.
WEEKS = time_chart(["2026-09-06", "2026-10-04", "2026-11-08", "2026-11-29"])
INTO_NEXT_YEAR = time_chart(["2026-10-01", "2026-12-01", "2027-02-01"])


def test_a_japanese_time_axis_reads_japanese_months_and_years():
    texts = rendered_texts(localized(WEEKS, "ja"))
    assert "11月" in texts and "11月8日" in texts and "9月13日" in texts, texts
    assert not [x for x in texts if re.search(r"[A-Z][a-z]{2}", x)], texts
    assert "4,000,000" in texts  # thousands separators on the value axis
    assert "2027年" in rendered_texts(localized(INTO_NEXT_YEAR, "ja"))


def test_an_english_time_axis_reads_english_months():
    texts = rendered_texts(localized(WEEKS, "en"))
    assert "Nov" in texts and "Nov 8" in texts and "Sep 13" in texts, texts
    assert not [x for x in texts if "月" in x]
    assert "2027" in rendered_texts(localized(INTO_NEXT_YEAR, "en"))


def test_the_locale_travels_in_the_spec_for_every_language():
    for lang in ("ja", "en"):
        spec = localized(WEEKS, lang).to_dict()
        assert spec["config"]["locale"] == vega_locale(lang)
        assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"
    assert vega_locale("ja")["time"]["shortMonths"][10] == "11月"
    assert vega_locale("xx") == vega_locale("ja")  # an unknown language falls back to Japanese
    # Category colours without a red–green pair, and ramps from viridis.
    assert chart_config("ja")["range"]["category"] == CATEGORY_COLOURS
    assert chart_config("ja")["range"]["heatmap"] == {"scheme": "viridis"}


def test_layered_charts_are_localized_at_the_top():
    layered = WEEKS + WEEKS.mark_point()
    texts = rendered_texts(localized(layered, "ja"))
    assert "11月" in texts


def test_no_page_draws_a_chart_past_the_helper_nor_with_red_against_green():
    offenders = []
    for module in MODULES:
        for path in (ROOT / module).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "st.altair_chart(" in text or "st.vega_lite_chart(" in text:
                offenders.append(f"{path.relative_to(ROOT)}: draws a chart without kernel.ui.show_chart")
            if re.search(r"scheme=\"(redyellowgreen|pinkyellowgreen|redgreen)\"", text):
                offenders.append(f"{path.relative_to(ROOT)}: a red–green colour scale")
    assert not offenders, offenders

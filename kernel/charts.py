"""Charts that read like the page around them, and that everyone can read.

Every Altair chart Manabi shows or exports passes through `localized(chart, lang)`: it
sets the Vega format locale (numbers: decimal mark, thousands separator, yen) and time
locale (month and weekday names) of the page's language, date labels the way that
language writes them ("11月8日", "2027年"; "Nov 8"), and colour ranges that stay
distinguishable to colour-blind readers (Okabe–Ito categories, viridis ramps, a
blue–orange diverging scheme; never red against green).

The locale travels inside the spec (`config.locale`, Vega ≥ 5.21), so the page's
vega-embed and vl-convert (PNG reports) format the same way, and one page's locale
cannot leak into another's. No Streamlit here: services render charts too.
"""

from __future__ import annotations

import altair as alt

_JA_MONTHS = [f"{m}月" for m in range(1, 13)]
_JA_DAYS = ["日曜日", "月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日"]

# d3-format / d3-time-format locale definitions, written out here (plain data).
VEGA_LOCALES: dict[str, dict] = {
    "ja": {
        "number": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", "円"]},
        "time": {
            "dateTime": "%Y年%-m月%-d日 %a %H:%M:%S",
            "date": "%Y/%m/%d",
            "time": "%H:%M:%S",
            "periods": ["午前", "午後"],
            "days": _JA_DAYS,
            "shortDays": [d[0] for d in _JA_DAYS],
            "months": _JA_MONTHS,
            "shortMonths": _JA_MONTHS,
        },
    },
    "en": {
        "number": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]},
        "time": {
            "dateTime": "%a %b %e %X %Y",
            "date": "%m/%d/%Y",
            "time": "%H:%M:%S",
            "periods": ["AM", "PM"],
            "days": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
            "shortDays": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
            "months": ["January", "February", "March", "April", "May", "June", "July", "August",
                       "September", "October", "November", "December"],
            "shortMonths": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        },
    },
}

# Labels of a time axis by the step between ticks (Vega's multi-format): Vega's own
# default mixes "Nov 08" with "November", and "%b %d" in Japanese reads "11月 08".
TIME_AXIS_FORMATS: dict[str, dict[str, str]] = {
    "ja": {"year": "%Y年", "quarter": "%-m月", "month": "%-m月", "week": "%-m月%-d日", "date": "%-m月%-d日",
           "hours": "%-H時", "minutes": "%H:%M", "seconds": "%H:%M:%S", "milliseconds": "%H:%M:%S.%L"},
    "en": {"year": "%Y", "quarter": "%b", "month": "%b", "week": "%b %-d", "date": "%b %-d",
           "hours": "%-I %p", "minutes": "%H:%M", "seconds": "%H:%M:%S", "milliseconds": "%H:%M:%S.%L"},
}
# A single date outside an axis (tooltips, legends): 2026年11月8日 / Nov 8, 2026.
DATE_FORMATS = {"ja": "%Y年%-m月%-d日", "en": "%b %-d, %Y"}

# Okabe & Ito's eight colours, told apart with every common colour-vision deficiency.
CATEGORY_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
# More categories than colours cannot be told apart: a chart shows the largest few and groups the rest.
MAX_CATEGORIES = len(CATEGORY_COLOURS)
# The group of the rest ("その他"): grey, apart from every category colour.
OTHERS_COLOUR = "#9E9E9E"
SEQUENTIAL_SCHEME = "viridis"
DIVERGING_SCHEME = "blueorange"
# Numbers in tooltips and legends: separators, up to 12 significant digits, no trailing zeros.
NUMBER_FORMAT = ",.12~r"


def language(lang: str) -> str:
    return lang if lang in VEGA_LOCALES else "ja"


def vega_locale(lang: str) -> dict:
    """The Vega `config.locale` (number and time) for a page language."""
    return VEGA_LOCALES[language(lang)]


def chart_config(lang: str) -> dict:
    """The top-level Vega-Lite config every Manabi chart carries."""
    lang = language(lang)
    return {
        "locale": vega_locale(lang),
        "axisTemporal": {"format": TIME_AXIS_FORMATS[lang], "formatType": "time"},
        "timeFormat": DATE_FORMATS[lang],
        "numberFormat": NUMBER_FORMAT,
        "range": {"category": CATEGORY_COLOURS, "ordinal": {"scheme": SEQUENTIAL_SCHEME},
                  "ramp": {"scheme": SEQUENTIAL_SCHEME}, "heatmap": {"scheme": SEQUENTIAL_SCHEME},
                  "diverging": {"scheme": DIVERGING_SCHEME}},
    }


def localized(chart: alt.TopLevelMixin, lang: str) -> alt.TopLevelMixin:
    """`chart` with the page language's locale, date labels and colour-blind-safe ranges.
    Apply it to the top-level chart (a layer or concatenation, not its parts)."""
    # SVG, not canvas: axis labels and titles are text that screen readers (and tests) can read.
    return chart.configure(**chart_config(lang)).properties(usermeta={"embedOptions": {"renderer": "svg"}})


def mastery_scale(low: float = 0.5) -> alt.Scale:
    """0…1 where higher is better: orange under `low`, blue over it (blue–orange, not red–green)."""
    return alt.Scale(domain=[0, 1], domainMid=low, scheme=DIVERGING_SCHEME, reverse=True)

"""The yearly review (PDCA): every module's indicators side by side with last year's,
as rows for the page, a CSV file and a PNG report.

The review composes what each module's `indicators` function returns; it reads no
module's tables itself.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import altair as alt
import polars as pl

from kernel.actor import Actor, Role
from kernel.charts import localized
from kernel.clock import Clock
from kernel.csv_export import write_csv_bytes
from kernel.i18n import Translator
from kernel.indicators import MEASURES, Indicator, fiscal_year
from kernel.store import Store
from portal.modules import all_modules


@dataclass(frozen=True)
class ReviewRow:
    measure: str
    indicator: Indicator
    this_year: float | None
    last_year: float | None

    @property
    def has_data(self) -> bool:
        """False when no year of the series has a value: the page says so in words."""
        return any(value is not None for _, value in self.indicator.series)

    @property
    def change(self) -> float | None:
        if self.this_year is None or self.last_year is None:
            return None
        return self.this_year - self.last_year


def all_indicators(store: Store, clock: Clock) -> list[Indicator]:
    """Every module's indicators in the plan's order. Offered as "portal.indicators" (the lake's
    export carries them to the prefecture)."""
    indicators = [i for spec in all_modules() if spec.indicators for i in spec.indicators(store, clock)]
    indicators.sort(key=lambda i: (MEASURES.index(i.measure), i.key))
    return indicators


def review(store: Store, clock: Clock, actor: Actor) -> tuple[int, list[ReviewRow]]:
    """The current fiscal year and one row per indicator, in the plan's measure order."""
    actor.require(Role.CITY_ADMIN, Role.SCHOOL_ADMIN)
    year = fiscal_year(clock.now().date())
    indicators = all_indicators(store, clock)
    return year, [ReviewRow(i.measure, i, i.value(year), i.value(year - 1)) for i in indicators]


def plain_number(value: float | None) -> int | float | None:
    """A whole number as an integer (a count of 4983 reads "4983" in a file, not "4983.0")."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def as_csv(rows: list[ReviewRow], year: int, t: Translator) -> bytes:
    """Measure, indicator, unit, this year, last year, target; a year without data is empty."""
    header = [t("review.col_measure"), t("review.col_indicator"), t("review.col_unit"),
              t("review.col_year", year=year), t("review.col_year", year=year - 1), t("review.col_target")]
    return write_csv_bytes(header, [
        (r.measure, t(r.indicator.key), t(r.indicator.unit), plain_number(r.this_year), plain_number(r.last_year),
         plain_number(r.indicator.target)) for r in rows])


def trend_chart(row: ReviewRow, t: Translator, *, titled: bool = True) -> alt.Chart:
    """The indicator by fiscal year, with its target as a dashed line; `titled` for the
    PNG report (on the page the card already names it). Years without data are left out
    of the line; an indicator with no data at all is a sentence, not an empty axis."""
    if not row.has_data:
        note = alt.Chart(pl.DataFrame({"note": [t("review.no_data")]})).mark_text(
            fontSize=13, color="#555555").encode(text="note:N")
        return note.properties(height=140 if titled else 120, width=220 if titled else "container",
                               **({"title": f"{row.measure} · {t(row.indicator.key)}"} if titled else {}))
    series = pl.DataFrame(
        {"year": [str(y) for y, _ in row.indicator.series], "value": [v for _, v in row.indicator.series]},
        schema={"year": pl.String, "value": pl.Float64},
    )
    # No points layer without a value to show: Vega would leave an empty, unlabelled symbol group that
    # screen readers announce as an image with no name (axe: svg-img-alt).
    line = alt.Chart(series).mark_line(point=bool(series["value"].is_not_null().any())).encode(
        # Every year of the series on the axis, a year without data too (as a gap).
        x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0),
                scale=alt.Scale(domain=[str(y) for y, _ in row.indicator.series])),
        y=alt.Y("value:Q", title=t(row.indicator.unit)),
        tooltip=[alt.Tooltip("year:O", title=t("review.col_fiscal_year")),
                 alt.Tooltip("value:Q", title=t(row.indicator.unit), format=",.12~r")],
    ).transform_filter("isValid(datum.value)")
    if row.indicator.target is not None:
        target = alt.Chart(pl.DataFrame({"target": [row.indicator.target]})).mark_rule(
            strokeDash=[4, 4], color="#c0392b"
        ).encode(y="target:Q")
        chart = line + target
    else:
        chart = line
    if titled:
        return chart.properties(height=140, title=f"{row.measure} · {t(row.indicator.key)}")
    return chart.properties(height=120)


def as_png(rows: list[ReviewRow], year: int, t: Translator) -> bytes:
    """The whole review as one PNG: every indicator's trend, three to a line."""
    import vl_convert

    charts = [trend_chart(r, t).properties(width=220) for r in rows]
    lines = [alt.hconcat(*charts[i:i + 3]) for i in range(0, len(charts), 3)] or [
        alt.Chart(pl.DataFrame({"x": [0]})).mark_text(text=t("review.nothing")).encode()
    ]
    report = localized(alt.vconcat(*lines).properties(title=t("review.report_title", year=year)), t.lang)
    buffer = io.BytesIO(vl_convert.vegalite_to_png(report.to_json(), scale=1.5))
    return buffer.getvalue()

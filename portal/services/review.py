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


def as_frame(rows: list[ReviewRow], year: int, t: Translator) -> pl.DataFrame:
    return pl.DataFrame(
        {
            t("review.col_measure"): [r.measure for r in rows],
            t("review.col_indicator"): [t(r.indicator.key) for r in rows],
            t("review.col_unit"): [t(r.indicator.unit) for r in rows],
            t("review.col_year", year=year): [r.this_year for r in rows],
            t("review.col_year", year=year - 1): [r.last_year for r in rows],
            t("review.col_target"): [r.indicator.target for r in rows],
        },
        strict=False,
    )


def as_csv(rows: list[ReviewRow], year: int, t: Translator) -> bytes:
    frame = as_frame(rows, year, t)
    return write_csv_bytes(frame.columns, frame.rows())


def trend_chart(row: ReviewRow, t: Translator, *, titled: bool = True) -> alt.Chart:
    """The indicator by fiscal year, with its target as a dashed line; `titled` for the
    PNG report (on the page the card already names it)."""
    series = pl.DataFrame(
        {"year": [str(y) for y, _ in row.indicator.series], "value": [v for _, v in row.indicator.series]},
        schema={"year": pl.String, "value": pl.Float64},
    )
    line = alt.Chart(series).mark_line(point=True).encode(
        x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=t(row.indicator.unit)),
        tooltip=["year", "value"],
    )
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
    report = alt.vconcat(*lines).properties(title=t("review.report_title", year=year))
    buffer = io.BytesIO(vl_convert.vegalite_to_png(report.to_json(), scale=1.5))
    return buffer.getvalue()

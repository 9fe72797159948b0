"""Maps drawn by the portal itself (Altair, in the page): no tiles, no host but Manabi's.

The base is kernel.basemap's towns; over it each point is drawn, named beside it, and a click
on one hands its key back to the page, which opens the item or facility it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import streamlit as st

from kernel import basemap
from kernel.ui import PageContext

# Colour-blind-safe (Okabe–Ito) colours, in the order groups are listed.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_PAPER = "#F3F1EA"
_LABEL_WIDTH = 170  # pixels; longer names end in "…" (the table under a map has them whole)


@dataclass(frozen=True)
class MapPoint:
    key: str           # handed back when the point is clicked (an item's or a facility's id)
    lat: float
    lon: float
    label: str         # written beside the point
    detail: str = ""   # the tooltip's second line
    group: str = ""    # the legend's entry (a type of item); one colour each


def point_map(ctx: PageContext, points: list[MapPoint], *, key: str, height: int = 460,
              groups: list[str] | None = None, legend_title: str = "") -> str | None:
    """Draw `points` on the base map; the key of the point clicked in this run, or None."""
    t = ctx.t
    # The frame is about as wide as the page's column (~800 px) for the height asked.
    extent = basemap.extent_around([(p.lat, p.lon) for p in points], margin_km=2.0, aspect=800 / height)
    # Clockwise, as d3-geo reads an outer ring (anticlockwise would be the whole globe but this).
    paper = alt.Data(values=[{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
        [extent.west, extent.south], [extent.west, extent.north], [extent.east, extent.north],
        [extent.east, extent.south], [extent.west, extent.south]]]}}])
    background = alt.Chart(paper).mark_geoshape(fill=_PAPER, stroke="#C9C4B5", strokeWidth=1)

    towns = [{"lat": p.lat, "lon": p.lon, "name": p.name(ctx.lang), "big": p.population >= 50_000}
             for p in basemap.places_in(extent)]
    town_layers = []
    if towns:
        town_data = alt.Data(values=towns)
        town_layers = [
            alt.Chart(town_data).mark_square(size=30, color="#8A8579", opacity=0.8)
            .encode(longitude="lon:Q", latitude="lat:Q"),
            alt.Chart(town_data).mark_text(dy=-11, color="#5F5A4E", fontStyle="italic")
            .encode(longitude="lon:Q", latitude="lat:Q", text="name:N",
                    size=alt.Size("big:O", scale=alt.Scale(domain=[False, True], range=[12, 15]), legend=None)),
        ]

    used = {p.group for p in points}
    groups = [g for g in groups or sorted(used) if g in used]
    rows = [{"key": p.key, "lat": p.lat, "lon": p.lon, "label": p.label, "detail": p.detail, "group": p.group}
            for p in points]
    data = alt.Data(values=rows)
    pick = alt.selection_point(name="pick", fields=["key"], on="click", clear=False)
    colour = alt.Color("group:N", title=legend_title or None,
                       scale=alt.Scale(domain=groups, range=list(PALETTE[:len(groups)])),
                       legend=alt.Legend(orient="bottom", direction="horizontal", labelFontSize=13,
                                         titleFontSize=13, symbolSize=140) if len(groups) > 1 else None)
    where = {"longitude": "lon:Q", "latitude": "lat:Q"}
    dots = alt.Chart(data).mark_circle(size=170, opacity=1, stroke="white", strokeWidth=1.5, cursor="pointer").encode(
        **where, color=colour,
        tooltip=[alt.Tooltip("label:N", title=t("map.tooltip_name")), alt.Tooltip("detail:N", title=t("map.tooltip_detail"))],
    ).add_params(pick)
    # The name twice: a thick white copy under the dark one keeps it legible over other marks.
    halo = alt.Chart(data).mark_text(align="left", dx=10, fontSize=13, stroke="white", strokeWidth=4,
                                     strokeJoin="round", limit=_LABEL_WIDTH, cursor="pointer").encode(**where, text="label:N")
    names = alt.Chart(data).mark_text(align="left", dx=10, fontSize=13, color="#1F1F1F", fontWeight="bold",
                                      limit=_LABEL_WIDTH, cursor="pointer").encode(**where, text="label:N")
    chart = (alt.layer(background, *town_layers, dots, halo, names)
             .project(type="mercator")
             .properties(height=height, width="container")
             .configure_view(stroke=None))
    event = st.altair_chart(chart, key=key, on_select="rerun", selection_mode="pick", width="stretch")
    st.caption(t("map.hint") + " · " + t("map.attribution", source=basemap.ATTRIBUTION))
    picked = (event.selection.get("pick") if event else None) or []
    return str(picked[0]["key"]) if picked else None

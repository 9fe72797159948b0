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
_FONT = '"Source Sans", "Noto Sans JP", sans-serif'  # the page's own (portal/webfonts.py)
_LABEL_WIDTH = 170  # pixels; longer names end in "…" (the table under a map has them whole)


def _text_width(text: str, size: int = 13) -> float:
    """Pixels a label takes, near enough: Japanese characters are square, others about half."""
    wide = sum(1 for c in text if ord(c) > 0x2E80)
    return min(_LABEL_WIDTH, wide * size + (len(text) - wide) * size * 0.58)


def _place_labels(spots: list[tuple[float, float, str]], taken: list[tuple[float, float, float, float]],
                  width: float, height: float) -> list[tuple[float, float] | None]:
    """Where each label's left end goes, in pixels (x right, y down), or None when every place
    beside its point would cover another label: right, left, above, below, in that order."""
    placed = []
    for x, y, text in spots:
        w = _text_width(text)
        for left, top in ((x + 10, y - 9), (x - 10 - w, y - 9), (x - w / 2, y - 27), (x - w / 2, y + 9)):
            box = (left, top, left + w, top + 18)
            inside = box[0] >= 0 and box[2] <= width and box[1] >= 0 and box[3] <= height
            if inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
                taken.append(box)
                placed.append((left, top + 9))
                break
        else:
            placed.append(None)
    return placed


@dataclass(frozen=True)
class MapPoint:
    key: str           # handed back when the point is clicked (an item's or a facility's id)
    lat: float
    lon: float
    label: str         # written beside the point
    detail: str = ""   # the tooltip's second line
    group: str = ""    # the legend's entry (a type of item); one colour each


def point_map(ctx: PageContext, points: list[MapPoint], *, key: str, height: int = 460,
              groups: list[str] | None = None, legend_title: str = "", clickable: bool = True) -> str | None:
    """Draw `points` on the base map; the key of the point clicked in this run, or None."""
    t = ctx.t
    # The frame is about as wide as the page's column (~800 px) for the height asked.
    # One point alone gets a wider frame, so that the towns around say where it is.
    extent = basemap.extent_around([(p.lat, p.lon) for p in points], margin_km=2.0 if len(points) > 1 else 5.0,
                                   aspect=800 / height)
    # Clockwise, as d3-geo reads an outer ring (anticlockwise would be the whole globe but this).
    paper = alt.Data(values=[{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
        [extent.west, extent.south], [extent.west, extent.north], [extent.east, extent.north],
        [extent.east, extent.south], [extent.west, extent.south]]]}}])
    # The paper, the towns and the names' white halo are decoration: left out of what a screen
    # reader is told (Vega's aria), which the points and their names carry.
    background = alt.Chart(paper).mark_geoshape(fill=_PAPER, stroke="#C9C4B5", strokeWidth=1, aria=False)

    # Pixels of the frame, near enough over a city (Mercator is all but linear across 20 km).
    # The frame comes out about 640 px wide in the page's column beside the sidebar.
    width_px = 640.0
    height_px = width_px * height / 800

    def to_px(lat: float, lon: float) -> tuple[float, float]:
        return ((lon - extent.west) / (extent.east - extent.west) * width_px,
                (extent.north - lat) / (extent.north - extent.south) * height_px)

    def to_lonlat(x: float, y: float) -> tuple[float, float]:
        return (extent.west + x / width_px * (extent.east - extent.west),
                extent.north - y / height_px * (extent.north - extent.south))

    # Every point's own mark is kept clear; then the points' names, then the towns' where room is left.
    taken = [(x - 7, y - 7, x + 7, y + 7) for x, y in (to_px(p.lat, p.lon) for p in points)]
    spots = [(*to_px(p.lat, p.lon), p.label) for p in points]
    label_at = _place_labels(spots, taken, width_px, height_px)
    towns_here = basemap.places_in(extent)
    town_at = _place_labels([(*to_px(p.lat, p.lon), p.name(ctx.lang)) for p in towns_here], taken, width_px, height_px)
    towns = []
    for place, at in zip(towns_here, town_at, strict=True):
        x, y = to_px(place.lat, place.lon)
        if 0 <= x <= width_px and 0 <= y <= height_px:
            lon, lat = to_lonlat(*at) if at else (place.lon, place.lat)
            towns.append({"lat": place.lat, "lon": place.lon, "name": place.name(ctx.lang) if at else "",
                          "name_lat": lat, "name_lon": lon})
    town_layers = []
    if towns:
        town_data = alt.Data(values=towns)
        town_layers = [
            alt.Chart(town_data).mark_square(size=30, color="#8A8579", opacity=0.8, aria=False)
            .encode(longitude="lon:Q", latitude="lat:Q"),
            alt.Chart(town_data).mark_text(align="left", baseline="middle", color="#5F5A4E", fontStyle="italic",
                                           fontSize=13, aria=False).encode(longitude="name_lon:Q", latitude="name_lat:Q", text="name:N"),
        ]

    used = {p.group for p in points}
    groups = [g for g in groups or sorted(used) if g in used]
    rows = []
    for p, at in zip(points, label_at, strict=True):
        lon, lat = to_lonlat(*at) if at else (p.lon, p.lat)
        rows.append({"key": p.key, "lat": p.lat, "lon": p.lon, "label": p.label, "detail": p.detail or p.label,
                     "group": p.group, "shown": p.label if at else "", "label_lat": lat, "label_lon": lon})
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
    at_label = {"longitude": "label_lon:Q", "latitude": "label_lat:Q", "text": "shown:N"}
    halo = alt.Chart(data).mark_text(align="left", baseline="middle", fontSize=13, stroke="white", strokeWidth=4,
                                     strokeJoin="round", limit=_LABEL_WIDTH, aria=False).encode(**at_label)
    names = alt.Chart(data).mark_text(align="left", baseline="middle", fontSize=13, color="#1F1F1F",
                                      fontWeight="bold", limit=_LABEL_WIDTH).encode(**at_label)
    chart = (alt.layer(background, *town_layers, dots, halo, names)
             .project(type="mercator")
             .properties(height=height, width="container")
             .configure(font=_FONT, view=alt.ViewConfig(stroke=None))
             # SVG, not canvas: the names are text a screen reader and a find-in-page reach.
             .properties(usermeta={"embedOptions": {"renderer": "svg"}}))
    event = st.altair_chart(chart, key=key, on_select="rerun" if clickable else "ignore",
                            selection_mode="pick" if clickable else None, width="stretch")
    credit = t("map.attribution", source=basemap.ATTRIBUTION)
    st.caption(f"{t('map.hint')} · {credit}" if clickable else credit)
    picked = (event.selection.get("pick") if clickable and event else None) or []
    return str(picked[0]["key"]) if picked else None

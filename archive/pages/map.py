"""Map of published items (public), filterable by era and type."""

import pydeck as pdk
import streamlit as st

from archive.pages import _shared as ui
from archive.services import items
from kernel.ui import page_context

# One colour per type, so the map reads at a glance (legend under the map).
TYPE_COLORS = {"object": [200, 60, 60], "document": [60, 110, 200], "photograph": [120, 120, 120],
               "building": [230, 140, 30], "site": [40, 140, 70]}
LEGEND = {"object": "red", "document": "blue", "photograph": "gray", "building": "orange", "site": "green"}

ctx = page_context()
t = ctx.t

st.title(t("archive.map.title"))
st.caption(t("archive.map.intro"))
left, right = st.columns(2)
types = left.multiselect(t("archive.field.type"), items.TYPES, key="archive_map_types",
                         format_func=lambda k: ui.type_label(ctx, k), placeholder=t("archive.browse.any"))
era = right.selectbox(t("archive.browse.era"), [None, *ui.ERA_KEYS], key="archive_map_era",
                      format_func=lambda k: t("archive.browse.any") if k is None else ui.era_label(ctx, k))
result = items.search(ctx.store, ctx.actor, "", types=types or None, era=era, limit=10_000)
# Staff see every state in lists, but the map is the public's: published only.
placed = [s for s in result.items if s.latitude is not None and s.status == "published"]
st.caption(t("archive.map.count", count=t.number(len(placed))))
if placed:
    points = [{"lat": s.latitude, "lon": s.longitude, "title": s.title(ctx.lang), "kind": ui.type_label(ctx, s.type),
               "date": s.date_text or "—", "color": TYPE_COLORS[s.type]} for s in placed]
    layer = pdk.Layer("ScatterplotLayer", data=points, get_position="[lon, lat]", get_fill_color="color",
                      get_radius=90, radius_min_pixels=6, pickable=True)
    center = (sum(p["lat"] for p in points) / len(points), sum(p["lon"] for p in points) / len(points))
    st.pydeck_chart(pdk.Deck(layers=[layer], initial_view_state=pdk.ViewState(latitude=center[0], longitude=center[1],
                                                                             zoom=11.5),
                             tooltip={"text": "{title}\n{kind} · {date}"}), height=440)
    st.markdown(" ".join(f":{LEGEND[k]}[●] {ui.type_label(ctx, k)}" for k in items.TYPES
                         if any(s.type == k for s in placed)))
    st.dataframe(
        [{t("archive.field.title"): s.title(ctx.lang), t("archive.field.type"): ui.type_label(ctx, s.type),
          t("archive.field.date"): f"{s.date_text}（{ui.years(ctx, s)}）" if s.date_text else "—", t("archive.field.place"): (s.place_en if ctx.lang == "en" and s.place_en else s.place_ja),
          t("archive.map.link"): f"/archive?item={s.id}"} for s in placed],
        hide_index=True, width="stretch",
        column_config={t("archive.map.link"): st.column_config.LinkColumn(display_text=t("archive.browse.open"))},
    )
else:
    st.info(t("archive.browse.nothing"))

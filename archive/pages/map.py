"""Map of published items (public), filterable by era and type."""

from pathlib import Path

import streamlit as st

from archive.pages import _shared as ui
from archive.services import items, search
from kernel.ui import md_escape, page_context
from kernel.ui.maps import MapPoint, point_map

_BROWSE = str(Path(__file__).with_name("browse.py"))

ctx = page_context()
t = ctx.t

st.title(t("archive.map.title"))
st.caption(t("archive.map.intro"))
left, right = st.columns(2)
types = left.multiselect(t("archive.field.type"), items.TYPES, key="archive_map_types",
                         format_func=lambda k: ui.type_label(ctx, k), placeholder=t("archive.browse.any"))
era = right.selectbox(t("archive.browse.era"), [None, *ui.ERA_KEYS], key="archive_map_era",
                      format_func=lambda k: t("archive.browse.any") if k is None else ui.era_label(ctx, k))
result = search.search(ctx.store, ctx.actor, "", types=types or None, era=era, limit=10_000)
# Staff see every state in lists, but the map is the public's: published only.
placed = [s for s in result.items if s.latitude is not None and s.status == "published"]
st.caption(t("archive.map.count", count=t.number(len(placed))))
if placed:
    # Items kept at one place share one point: named by the item when alone, by the place otherwise.
    by_spot: dict[tuple[float, float], list] = {}
    for s in placed:
        by_spot.setdefault((s.latitude, s.longitude), []).append(s)
    points = []
    for (lat, lon), here in by_spot.items():
        first = here[0]
        place = (first.place_en if ctx.lang == "en" and first.place_en else first.place_ja) or first.title(ctx.lang)
        label = first.title(ctx.lang) if len(here) == 1 else t("archive.map.several", place=place, count=len(here))
        points.append(MapPoint(key=str(first.id) if len(here) == 1 else f"{lat},{lon}", lat=lat, lon=lon, label=label,
                               detail=" / ".join(f"{s.title(ctx.lang)}（{ui.type_label(ctx, s.type)}）" for s in here),
                               group=ui.type_label(ctx, first.type) if len(here) == 1 else t("archive.map.mixed")))
    kinds = [ui.type_label(ctx, k) for k in items.TYPES if any(s.type == k for s in placed)]
    picked = point_map(ctx, points, key="archive_map_points", groups=[*kinds, *([t("archive.map.mixed")] if len(by_spot) < len(placed) else [])],
                       legend_title=t("archive.field.type"))
    if picked and "," not in picked:
        st.switch_page(_BROWSE, query_params={"item": picked})
    if picked:
        lat, lon = (float(v) for v in picked.split(","))
        st.subheader(t("archive.map.here", count=len(by_spot[(lat, lon)])), anchor=False)
        for s in by_spot[(lat, lon)]:
            if st.button(md_escape(s.title(ctx.lang)), key=f"archive_map_open_{s.id}", icon=":material/open_in_new:"):
                st.switch_page(_BROWSE, query_params={"item": str(s.id)})
    st.dataframe(
        [{t("archive.field.title"): s.title(ctx.lang), t("archive.field.type"): ui.type_label(ctx, s.type),
          t("archive.field.date"): f"{s.date_text}（{ui.years(ctx, s)}）" if s.date_text else "—", t("archive.field.place"): (s.place_en if ctx.lang == "en" and s.place_en else s.place_ja),
          t("archive.map.link"): f"/archive?item={s.id}"} for s in placed],
        hide_index=True, width="stretch",
        column_config={t("archive.map.link"): st.column_config.LinkColumn(display_text=t("archive.browse.open"))},
    )
else:
    st.info(t("archive.browse.nothing"))

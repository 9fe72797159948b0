"""Map of published items (public), filterable by era and type."""

import streamlit as st

from archive import ui
from archive.services import items
from kernel.ui import page_context

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
    st.map([{"lat": s.latitude, "lon": s.longitude} for s in placed], zoom=12, height=420)
    st.dataframe(
        [{t("archive.field.title"): s.title(ctx.lang), t("archive.field.type"): ui.type_label(ctx, s.type),
          t("archive.field.date"): s.date_text or "—", t("archive.field.place"): (s.place_en if ctx.lang == "en" and s.place_en else s.place_ja),
          t("archive.map.link"): f"/archive?item={s.id}"} for s in placed],
        hide_index=True, width="stretch",
        column_config={t("archive.map.link"): st.column_config.LinkColumn(display_text=t("archive.browse.open"))},
    )
else:
    st.info(t("archive.browse.nothing"))

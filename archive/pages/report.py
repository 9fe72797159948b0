"""Views of published items for the yearly review (curators and the city administrator)."""

from datetime import date

import altair as alt
import streamlit as st

from archive.pages import _shared as ui
from archive.services import items, search
from kernel.ui import page_context, show_chart

ctx = page_context("curator", "city_admin")
t = ctx.t

st.title(t("archive.report.title"))
today = ctx.clock.now().date()
# The city's fiscal year runs April to March.
fiscal = today.year if today.month >= 4 else today.year - 1
years = list(range(fiscal, fiscal - 5, -1))
year = st.selectbox(t("archive.report.year"), years, format_func=lambda y: t("archive.report.fiscal", year=y))
total, per_item, per_month = search.views_report(ctx.store, ctx.actor, date(year, 4, 1), date(year + 1, 3, 31))
counts = search.counts_by_status(ctx.store, ctx.actor)
a, b = st.columns(2)
a.metric(t("archive.report.views"), t.number(total))
b.metric(t("archive.report.published"), t.number(counts.get("published", 0)))
st.caption(t("archive.report.privacy"))
if per_month:
    chart = alt.Chart(alt.Data(values=[{"month": m.isoformat(), "views": v} for m, v in per_month])).mark_bar().encode(
        x=alt.X("month:T", title=t("archive.report.month"), timeUnit="yearmonth"),
        y=alt.Y("views:Q", title=t("archive.report.views")),
    )
    show_chart(ctx, chart)
else:
    st.info(t("archive.report.no_views"))
st.dataframe(
    [{t("archive.field.identifier"): r.identifier, t("archive.field.title"): r.title(ctx.lang),
      t("archive.report.views"): r.views} for r in per_item],
    hide_index=True, width="stretch",
)
st.caption(" · ".join(f"{ui.status_label(ctx, s)} {t.number(counts.get(s, 0))}" for s in items.STATUSES))

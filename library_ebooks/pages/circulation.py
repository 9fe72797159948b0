"""Circulation (librarians): loans per day, holds waiting, long queues, CSV of loans."""

import altair as alt
import polars as pl
import streamlit as st

from kernel.ui import page_context, show_chart
from library_ebooks.services import circulation as circulation_service

ctx = page_context("librarian", "city_admin")
t = ctx.t
st.title(t("circulation.title"))

stats = circulation_service.circulation(ctx.store, ctx.clock, ctx.actor)
loans_col, holds_col, titles_col = st.columns(3)
loans_col.metric(t("circulation.active_loans"), t.number(stats.active_loans))
holds_col.metric(t("circulation.holds_waiting"), t.number(stats.holds_waiting))
titles_col.metric(t("circulation.titles"), t.number(stats.titles))

st.subheader(t("circulation.loans_per_day"))
per_day = pl.DataFrame({"day": [d for d, _ in stats.loans_per_day], "loans": [n for _, n in stats.loans_per_day]})
chart = alt.Chart(per_day).mark_bar().encode(
    x=alt.X("day:T", title=t("circulation.day")),
    y=alt.Y("loans:Q", title=t("circulation.loans")),
    tooltip=[alt.Tooltip("day:T", title=t("circulation.day")), alt.Tooltip("loans:Q", title=t("circulation.loans"))],
)
if per_day["loans"].sum():
    show_chart(ctx, chart)
else:
    st.info(t("circulation.no_loans"))

st.subheader(t("circulation.queues"))
if not stats.queues:
    st.info(t("circulation.no_queues"))
else:
    st.dataframe([{t("ebooks.title"): q.title, t("circulation.queue"): q.waiting,
                   t("circulation.copies"): "∞" if q.unlimited else q.copies,
                   t("circulation.per_copy"): round(q.per_copy, 1)} for q in stats.queues], hide_index=True)

st.download_button(t("circulation.export"), circulation_service.loans_csv(ctx.store, ctx.clock, ctx.actor),
                   file_name="ebook-loans.csv", mime="text/csv", icon=":material/download:")

"""Occupancy (facility staff): how full each room was in a month, as a chart and a CSV."""

import altair as alt
import pandas as pd
import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import reports
from kernel.ui import action, page_context, show_chart

ctx = page_context("facility_staff", "city_admin")
t, lang = ctx.t, ctx.lang
st.title(t("nav.facilities_occupancy"))
today = ctx.clock.now().date()
months = list(reversed(shared.months_from(today.replace(year=today.year - 1, day=1), 13))) + shared.months_from(today, 3)[1:]
months = sorted(set(months), reverse=True)
month = st.selectbox(t("vacancy.month"), months, index=months.index(f"{today:%Y-%m}"),
                     format_func=lambda m: shared.month_label(t, m), key="occupancy_month")
with action(ctx, rerun=False, stop=True):
    rows = reports.occupancy(ctx.store, ctx.clock, ctx.actor, month)

if not rows:
    st.info(t("occupancy.no_rooms"))
    st.stop()

frame = pd.DataFrame([{
    "facility": r.facility_ja if lang == "ja" else r.facility_en,
    "room": f"{r.facility_ja if lang == 'ja' else r.facility_en} {r.room_ja if lang == 'ja' else r.room_en}",
    "rate": r.rate, "booked": r.booked_blocks, "open": r.open_blocks, "paid": r.paid_yen,
} for r in rows])
total_open = int(frame["open"].sum()) if len(frame) else 0
total_booked = int(frame["booked"].sum()) if len(frame) else 0
c1, c2, c3 = st.columns(3)
c1.metric(t("occupancy.rate"), t.percent(total_booked / total_open if total_open else 0))
c2.metric(t("occupancy.booked"), t.number(total_booked))
c3.metric(t("occupancy.paid"), t.money(int(frame["paid"].sum()) if len(frame) else 0))

by_facility = frame.groupby("facility", sort=False)[["booked", "open"]].sum().reset_index()
by_facility["rate"] = by_facility["booked"] / by_facility["open"].where(by_facility["open"] > 0, 1)
chart = alt.Chart(by_facility).mark_bar().encode(
    x=alt.X("rate:Q", title=t("occupancy.rate"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
    y=alt.Y("facility:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320, labelOverlap=False)),
    tooltip=[alt.Tooltip("facility:N", title=t("vacancy.facility")),
             alt.Tooltip("rate:Q", format=".1%", title=t("occupancy.rate")),
             alt.Tooltip("booked:Q", title=t("occupancy.booked"))],
).properties(height=max(200, 30 * len(by_facility)))
show_chart(ctx, chart)

st.subheader(t("occupancy.per_room"), anchor=False)
st.dataframe(
    frame.rename(columns={"room": t("vacancy.room"), "rate": t("occupancy.rate"), "booked": t("occupancy.booked"),
                          "open": t("occupancy.open"), "paid": t("occupancy.paid")}).drop(columns=["facility"]),
    hide_index=True, width="stretch",
    column_config={t("occupancy.rate"): st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent"),
                   t("occupancy.paid"): st.column_config.NumberColumn(format="yen")},
)
st.download_button(t("ui.download_csv"), data=reports.occupancy_csv(rows).encode("utf-8-sig"),
                   file_name=f"occupancy-{month}.csv", mime="text/csv", icon=":material/download:",
                   key="occupancy_csv")

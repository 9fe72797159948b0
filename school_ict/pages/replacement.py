"""Replacement plan (the board): devices reaching end of support per school and fiscal
year, with a cost estimate from unit prices entered here, as a chart and a table."""

import altair as alt
import polars as pl
import streamlit as st

from kernel.csv_export import write_csv_bytes
from kernel.errors import ManabiError
from kernel.ui import page_context, show_error
from school_ict.pages._shared import pick_school
from school_ict.services import planning

ctx = page_context("city_admin")
t = ctx.t
st.title(t("ict.replacement.title"))
st.caption(t("ict.replacement.help"))
school_id = pick_school(ctx)

price_cols = st.columns(3)
prices = {kind: int(col.number_input(t("ict.replacement.unit_price", kind=t(f"ict.kind.{kind}")), min_value=0,
                                     value=default, step=1000, key=f"ict_price_{kind}"))
          for col, (kind, default) in zip(price_cols, planning.DEFAULT_UNIT_PRICES.items(), strict=True)}
try:
    rows = planning.replacement_plan(ctx.store, ctx.actor, prices, school_id)
except ManabiError as exc:
    show_error(ctx, exc)
    st.stop()

if rows:
    frame = pl.DataFrame([{t("ict.col.fiscal_year"): t("ict.replacement.fy", year=r["fiscal_year"]),
                           t("ict.col.school"): r["school_code"], t("ict.col.kind"): t(f"ict.kind.{r['kind']}"),
                           t("ict.col.devices"): r["devices"], t("ict.col.cost"): r["cost"]} for r in rows])
    totals: dict[int, list[int]] = {}
    for r in rows:
        year = totals.setdefault(r["fiscal_year"], [0, 0])
        year[0] += r["devices"]
        year[1] += r["cost"]
    for year, (devices, cost) in sorted(totals.items()):
        st.markdown("- " + t("ict.replacement.total", year=year, devices=t.number(devices), cost=t.money(cost)))
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{t('ict.col.fiscal_year')}:N", sort="ascending", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"sum({t('ict.col.cost')}):Q", title=t("ict.col.cost")),
        color=f"{t('ict.col.school')}:N",
        tooltip=[t("ict.col.fiscal_year"), t("ict.col.school"), t("ict.col.kind"), t("ict.col.devices"),
                 t("ict.col.cost")])
    st.altair_chart(chart, use_container_width=True)
    st.dataframe(frame, hide_index=True)
    st.download_button(t("ict.replacement.download"), write_csv_bytes(frame.columns, frame.rows()),
                       file_name="replacement-plan.csv", mime="text/csv")
else:
    st.info(t("ui.none"))

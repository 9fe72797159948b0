"""Replacement plan (the board): devices reaching end of support per school and fiscal
year, with a cost estimate from unit prices entered here, as a chart and a table."""

import json

import altair as alt
import polars as pl
import streamlit as st

from kernel.charts import CATEGORY_COLOURS, MAX_CATEGORIES, OTHERS_COLOUR
from kernel.csv_export import write_csv_bytes
from kernel.errors import ManabiError
from kernel.ui import page_context, show_chart, show_error
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
    totals: dict[int, list[int]] = {}
    for r in rows:
        year = totals.setdefault(r["fiscal_year"], [0, 0])
        year[0] += r["devices"]
        year[1] += r["cost"]
    for year in planning.plan_years(rows):
        devices, cost = totals.get(year, (0, 0))
        st.markdown("- " + t("ict.replacement.total", year=year, devices=t.number(devices), cost=t.money(cost)))

    def school_name(school: dict) -> str:
        return school["name_ja"] if ctx.lang == "ja" else school["name_en"]

    def year_label(year: int) -> str:
        return t("ict.replacement.fy", year=year)

    # The largest schools by name, the rest as one grey group: 30 colours cannot be told apart.
    bars = planning.by_school_for_chart(rows, top=MAX_CATEGORIES - 1)
    others = t("ict.replacement.other_schools")
    chart_frame = pl.DataFrame([{"year": year_label(b["fiscal_year"]),
                                 "school": others if b["school_id"] is None else school_name(b),
                                 "devices": b["devices"], "cost": b["cost"]} for b in bars])
    schools = list(dict.fromkeys(chart_frame["school"].to_list()))
    if others in schools:
        schools = [s for s in schools if s != others] + [others]
    colours = [CATEGORY_COLOURS[i] for i in range(len(schools))]
    if others in schools:
        colours[-1] = OTHERS_COLOUR
    chart = alt.Chart(chart_frame).mark_bar().encode(
        # Every fiscal year of the plan on the axis, those with nothing due too.
        x=alt.X("year:N", title=t("ict.col.fiscal_year"), axis=alt.Axis(labelAngle=0),
                scale=alt.Scale(domain=[year_label(y) for y in planning.plan_years(rows)])),
        y=alt.Y("sum(cost):Q", title=t("ict.replacement.cost_yen")),
        color=alt.Color("school:N", title=t("ict.col.school"), sort=schools,
                        scale=alt.Scale(domain=schools, range=colours), legend=alt.Legend(labelLimit=280)),
        order=alt.Order("school_rank:Q"),
        tooltip=[alt.Tooltip("year:N", title=t("ict.col.fiscal_year")),
                 alt.Tooltip("school:N", title=t("ict.col.school")),
                 alt.Tooltip("devices:Q", title=t("ict.col.devices"), format=","),
                 alt.Tooltip("cost:Q", title=t("ict.replacement.cost_yen"), format=",")],
    ).transform_calculate(school_rank=f"indexof({json.dumps(schools)}, datum.school)")
    show_chart(ctx, chart)

    table = pl.DataFrame([{t("ict.col.fiscal_year"): year_label(r["fiscal_year"]),
                           t("ict.col.school"): school_name(r), t("ict.col.kind"): t(f"ict.kind.{r['kind']}"),
                           t("ict.col.devices"): r["devices"], t("ict.replacement.cost_yen"): r["cost"]}
                          for r in rows])
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        t("ict.col.devices"): st.column_config.NumberColumn(format="localized"),
        t("ict.replacement.cost_yen"): st.column_config.NumberColumn(format="localized")})
    # The file keeps the school code too: other systems know schools by it.
    csv_columns = [t("ict.col.fiscal_year"), t("ict.col.school_code"), t("ict.col.school"), t("ict.col.kind"),
                   t("ict.col.devices"), t("ict.replacement.cost_yen")]
    st.download_button(t("ict.replacement.download"), write_csv_bytes(csv_columns, [
        (r["fiscal_year"], r["school_code"], school_name(r), t(f"ict.kind.{r['kind']}"), r["devices"], r["cost"])
        for r in rows]), file_name="replacement-plan.csv", mime="text/csv")
else:
    st.info(t("ict.replacement.nothing_due"))

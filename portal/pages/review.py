"""The yearly review: each measure's indicators next to last year's, with downloads."""

import streamlit as st

from kernel.indicators import MEASURES
from kernel.ui import page_context, show_chart
from portal.services import review

ctx = page_context("city_admin", "school_admin")
t = ctx.t

st.title(t("review.title"))
year, rows = review.review(ctx.store, ctx.clock, ctx.actor)
st.caption(t("review.lead", year=year, last=year - 1))

left, right = st.columns(2)
left.download_button(t("review.download_csv"), review.as_csv(rows, year, t),
                     file_name=f"manabi-review-{year}.csv", mime="text/csv", icon=":material/download:")
if right.button(t("review.make_png"), icon=":material/image:"):
    with st.spinner(t("review.making_png")):
        st.session_state["review_png"] = review.as_png(rows, year, t)
if "review_png" in st.session_state:
    right.download_button(t("review.download_png"), st.session_state["review_png"],
                          file_name=f"manabi-review-{year}.png", mime="image/png")

if not rows:
    st.info(t("review.nothing"))
for measure in MEASURES:
    measure_rows = [r for r in rows if r.measure == measure]
    if not measure_rows:
        continue
    st.subheader(f"{measure} {t('review.measure_' + measure.replace('-', '_'))}", anchor=False)
    columns = st.columns(min(3, len(measure_rows)))
    for index, row in enumerate(measure_rows):
        with columns[index % len(columns)], st.container(border=True):
            value = "—" if row.this_year is None else t.number(round(row.this_year, 2))
            delta = None if row.change is None else t.number(round(row.change, 2))
            # No figure last year is no data, not a change from zero: no delta then.
            st.metric(f"{t(row.indicator.key)} ({t(row.indicator.unit)})", value, delta=delta,
                      delta_color="normal" if row.indicator.higher_is_better else "inverse",
                      help=t("review.no_data_last_year") if row.last_year is None
                      else t("review.last_year", value=t.number(round(row.last_year, 2))))
            if row.has_data:
                show_chart(ctx, review.trend_chart(row, t, titled=False))
            else:
                st.caption(t("review.no_data"))

"""School network load (4-1-2): peak bandwidth per pupil against the board's target,
schools over it highlighted, and one school's day as a chart."""

from datetime import timedelta

import altair as alt
import polars as pl
import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import page_context, show_chart, show_error
from school_ict.services import network, registry

ctx = page_context("school_admin", "city_admin")
t = ctx.t
st.title(t("ict.network.title"))
board = ctx.actor.has("city_admin")

goal = network.target(ctx.store)
if board:
    with st.form("ict_target"):
        new_goal = st.number_input(t("ict.network.target"), min_value=0.05, max_value=100.0, value=goal, step=0.05,
                                   help=t("ict.network.target_help"))
        if st.form_submit_button(t("ict.network.save_target")):
            try:
                network.set_target(ctx.store, ctx.actor, float(new_goal))
            except ManabiError as exc:
                show_error(ctx, exc)
            else:
                goal = float(new_goal)
                st.success(t("ict.network.target_saved", target=goal))
st.caption(t("ict.network.current_target", target=goal))

rows = network.peaks(ctx.store, ctx.clock, ctx.actor)
over = [r for r in rows if r["over_target"]]
if over:
    st.warning(t("ict.network.over", count=len(over)))
table = pl.DataFrame([{t("ict.col.school"): f"{r['code']} {r['name_ja'] if ctx.lang == 'ja' else r['name_en']}",
                       t("ict.col.pupils"): r["pupils"], t("ict.col.peak"): r["peak_down"],
                       t("ict.col.peak_per_pupil"): r["peak_per_pupil"],
                       t("ict.col.over_target"): t("ict.network.yes") if r["over_target"] else ""} for r in rows])
if table.height:
    over_col = t("ict.col.over_target")
    st.dataframe(table.to_pandas().style.apply(
        lambda row: ["background-color: #fde2e1" if row[over_col] else "" for _ in row], axis=1).format(
        {t("ict.col.peak"): "{:.1f}", t("ict.col.peak_per_pupil"): "{:.3f}"}), hide_index=True)

st.subheader(t("ict.network.day"), anchor=False)
schools = {s.id: f"{s.code} {s.name(ctx.lang)}" for s in registry.list_schools(ctx.store, ctx.actor)}
left, right = st.columns(2)
school_id = left.selectbox(t("ict.col.school"), list(schools), format_func=schools.get, key="ict_net_school")
day = right.date_input(t("ict.network.date"), value=ctx.clock.now().date() - timedelta(days=1), key="ict_net_day")
samples = network.school_day(ctx.store, ctx.actor, school_id, day) if school_id else []
if samples:
    frame = pl.DataFrame([{t("ict.col.hour"): s["sampled_at"].strftime("%H:%M"), t("ict.col.direction"): label,
                           t("ict.col.mbps"): s[key]}
                          for s in samples for key, label in (("mbps_down", t("ict.col.down")),
                                                              ("mbps_up", t("ict.col.up")))])
    show_chart(ctx, alt.Chart(frame).mark_line(point=True).encode(
        x=f"{t('ict.col.hour')}:O", y=f"{t('ict.col.mbps')}:Q", color=f"{t('ict.col.direction')}:N"))
else:
    st.info(t("ict.network.no_samples"))

if board:
    with st.expander(t("ict.network.import")), st.form("ict_net_import"):
        upload = st.file_uploader(t("ict.network.upload"), type=["csv"])
        if st.form_submit_button(t("ict.network.import")) and upload is not None:
            try:
                count = network.import_samples(ctx.store, ctx.actor, upload.getvalue())
            except ManabiError as exc:
                show_error(ctx, exc)
            else:
                st.success(t("ict.network.imported", rows=t.number(count)))

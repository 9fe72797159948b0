"""Board of education: learning across schools, per grade and unit. No learner ids, and
no school-grade-unit group of fewer than five pupils (the service leaves them out)."""

import altair as alt
import streamlit as st

from analytics.services import dashboards, roster
from kernel.charts import mastery_scale
from kernel.ui import page_context, show_chart

ctx = page_context("city_admin")
t = ctx.t

st.title(t("analytics.board.title"))
st.caption(t("analytics.board.privacy", min=dashboards.MIN_GROUP))
board = dashboards.board_view(ctx.store, ctx.actor, ctx.lang)
if board.is_empty():
    st.info(t("analytics.board.no_data"))
    st.stop()

grade_col, subject_col = st.columns(2)
grade = grade_col.selectbox(t("analytics.board.grade"), sorted(board["grade"].unique().to_list()),
                            format_func=lambda g: t("analytics.board.grade_label", grade=g), key="board_grade")
in_grade = board.filter(board["grade"] == grade)
subjects = sorted(in_grade["subject"].unique().to_list())
subject = subject_col.selectbox(t("analytics.board.subject"), subjects, key="board_subject",
                                format_func=lambda name: roster.subject_label(t, name))
shown = in_grade.filter(in_grade["subject"] == subject)

show_chart(
    ctx, alt.Chart(shown).mark_rect().encode(
        x=alt.X("unit:N", title=t("analytics.dash.unit"), sort=None, axis=alt.Axis(labelAngle=-30, labelLimit=200)),
        y=alt.Y("school:N", title=t("analytics.board.school"), axis=alt.Axis(labelOverlap=False, labelLimit=320)),
        color=alt.Color("mastery:Q", title=t("analytics.dash.mastery"),
                        scale=mastery_scale(dashboards.LOW_MASTERY), legend=alt.Legend(format=".0%")),
        tooltip=[alt.Tooltip("school:N", title=t("analytics.board.school")),
                 alt.Tooltip("unit:N", title=t("analytics.dash.unit")),
                 alt.Tooltip("mastery:Q", title=t("analytics.dash.mastery"), format=".0%"),
                 alt.Tooltip("completion:Q", title=t("analytics.dash.completion"), format=".0%"),
                 alt.Tooltip("pupils:Q", title=t("analytics.dash.pupils"))],
    ), height=max(200, 26 * shown["school"].n_unique() + 80))
st.dataframe(
    shown.select("school", "unit", "unit_code", "pupils", "mastery", "completion").rename({
        "school": t("analytics.board.school"), "unit": t("analytics.dash.unit"),
        "unit_code": t("analytics.dash.unit_code"), "pupils": t("analytics.dash.pupils"),
        "mastery": t("analytics.dash.mastery"), "completion": t("analytics.dash.completion")}),
    hide_index=True, width="stretch",
    column_config={t("analytics.dash.mastery"): st.column_config.NumberColumn(format="percent"),
                   t("analytics.dash.completion"): st.column_config.NumberColumn(format="percent")})

"""Learning dashboard for a teacher's class: mastery (with a pseudonymised CSV export), scores,
time on task beside tablet repairs, who may need help, and one pupil's timeline. A teacher is
offered their own classes only, a school administrator every class of the school; the
services check it again for every figure."""

import altair as alt
import pandas as pd
import streamlit as st

from analytics.services import dashboards, roster
from kernel.charts import CATEGORY_COLOURS, mastery_scale
from kernel.errors import ManabiError
from kernel.ui import page_context, show_chart, show_error

ctx = page_context("teacher", "school_admin")
t = ctx.t

st.title(t("analytics.dash.title"))
try:
    scope = dashboards.scope(ctx.store, ctx.actor)
    class_list = dashboards.classes(ctx.store, ctx.actor)
except ManabiError as exc:
    show_error(ctx, exc)
    st.stop()
if not scope.whole_school and not scope.classes:
    st.info(t("analytics.dash.no_assigned_classes"), icon=":material/groups:")
    st.stop()
if not class_list:
    st.info(t("analytics.dash.no_classes"))
    st.stop()
if not scope.whole_school:
    st.caption(t("analytics.dash.scope_own"))

chosen = st.selectbox(
    t("analytics.dash.class"), class_list, key="analytics_class",
    format_func=lambda c: t("analytics.dash.class_label", grade=c.grade, name=c.class_name, pupils=c.pupils))
grade, class_name = chosen.grade, chosen.class_name
# The class's own teachers see their pupils by name and kana; everyone else sees pseudonyms.
names = dashboards.pupil_labels(ctx.store, ctx.actor, grade, class_name)


def named(frame):
    """The frame with each learner id shown as the pupil's name where the teacher may see it."""
    return frame.with_columns(frame["learner_id"].replace(names)) if names and "learner_id" in frame.columns \
        else frame


# Orange under the "low mastery" line, blue above it: readable with any colour vision.
mastery_colours = mastery_scale(dashboards.LOW_MASTERY)

help_list = dashboards.may_need_help(ctx.store, ctx.clock, ctx.actor, grade, class_name, ctx.lang)
if help_list:
    st.warning(t("analytics.dash.help_count", count=len({r.learner_id for r in help_list})),
               icon=":material/support:")

tab_mastery, tab_scores, tab_time, tab_help, tab_pupil = st.tabs([
    t("analytics.dash.tab_mastery"), t("analytics.dash.tab_scores"), t("analytics.dash.tab_time"),
    t("analytics.dash.tab_help"), t("analytics.dash.tab_pupil")])

with tab_mastery:
    st.subheader(t("analytics.dash.mastery_pupils"))
    by_pupil = named(dashboards.mastery_by_pupil(ctx.store, ctx.actor, grade, class_name, ctx.lang))
    if by_pupil.is_empty():
        st.info(t("analytics.dash.no_data"))
    else:
        show_chart(
            ctx, alt.Chart(by_pupil).mark_rect().encode(
                x=alt.X("unit:N", title=t("analytics.dash.unit"), sort=None,
                          axis=alt.Axis(labelAngle=-30, labelLimit=160)),
                y=alt.Y("learner_id:N", title=t("analytics.dash.pupil"),
                          axis=alt.Axis(labelOverlap=False, labelLimit=260)),
                color=alt.Color("mastery:Q", title=t("analytics.dash.mastery"), scale=mastery_colours,
                                legend=alt.Legend(format=".0%")),
                tooltip=[alt.Tooltip("learner_id:N", title=t("analytics.dash.pupil")),
                         alt.Tooltip("unit:N", title=t("analytics.dash.unit")),
                         alt.Tooltip("mastery:Q", title=t("analytics.dash.mastery"), format=".0%"),
                         alt.Tooltip("completion:Q", title=t("analytics.dash.completion"), format=".0%"),
                         alt.Tooltip("attempts:Q", title=t("analytics.dash.attempts"))],
            ), height=max(240, 18 * by_pupil["learner_id"].n_unique() + 120))
        export_headers = {
            "pupil": t("analytics.dash.export_pupil"), "grade": t("analytics.dash.export_grade"),
            "class_name": t("analytics.dash.export_class"), "unit_code": t("analytics.dash.unit_code"),
            "subject": t("analytics.dash.subject"), "unit": t("analytics.dash.unit"),
            "mastery": t("analytics.dash.mastery"), "completion": t("analytics.dash.completion"),
            "attempts": t("analytics.dash.attempts")}
        # Made (and logged) only when the button is pressed.
        st.download_button(
            t("analytics.dash.export"), key="analytics_export", icon=":material/download:",
            help=t("analytics.dash.export_help"), mime="text/csv",
            file_name=f"mastery-{grade}-{class_name}.csv",
            data=lambda: dashboards.export_csv(dashboards.class_export(
                ctx.store, ctx.clock, ctx.actor, grade, class_name, ctx.lang), export_headers,
                worded={"subject": lambda name: roster.subject_label(t, name)}))
    st.subheader(t("analytics.dash.mastery_classes", grade=grade))
    by_class = dashboards.mastery_by_class(ctx.store, ctx.actor, grade, ctx.lang)
    if not by_class.is_empty():
        show_chart(
            ctx, alt.Chart(by_class).mark_rect().encode(
                x=alt.X("unit:N", title=t("analytics.dash.unit"), sort=None,
                          axis=alt.Axis(labelAngle=-30, labelLimit=160)),
                y=alt.Y("class_name:N", title=t("analytics.dash.class")),
                color=alt.Color("mastery:Q", title=t("analytics.dash.mastery"), scale=mastery_colours,
                                legend=alt.Legend(format=".0%")),
                tooltip=[alt.Tooltip("unit:N", title=t("analytics.dash.unit")),
                         alt.Tooltip("mastery:Q", title=t("analytics.dash.mastery"), format=".0%"),
                         alt.Tooltip("completion:Q", title=t("analytics.dash.completion"), format=".0%"),
                         alt.Tooltip("pupils:Q", title=t("analytics.dash.pupils"))],
            ))
    else:
        st.info(t("analytics.dash.no_data"))

with tab_scores:
    scores = dashboards.score_distribution(ctx.store, ctx.actor, grade, class_name, ctx.lang)
    if scores.is_empty():
        st.info(t("analytics.dash.no_data"))
    else:
        show_chart(
            ctx, alt.Chart(scores).mark_boxplot(extent="min-max").encode(
                x=alt.X("score:Q", title=t("analytics.dash.score"), scale=alt.Scale(domain=[0, 1])),
                y=alt.Y("assessment:N", title=t("analytics.dash.assessment"), axis=alt.Axis(labelLimit=280)),
            ))

with tab_time:
    weekly = named(dashboards.weekly_time_with_repairs(ctx.store, ctx.clock, ctx.actor, grade, class_name))
    repairs = dashboards.class_repair_weeks(ctx.store, ctx.clock, ctx.actor, grade, class_name)
    if weekly.is_empty():
        st.info(t("analytics.dash.no_data"))
    else:
        repair_label = t("analytics.dash.in_repair")
        weekly = weekly.with_columns(
            weekly["in_repair"].replace_strict({True: repair_label, False: ""}, return_dtype=str).alias("repair"))
        base = alt.Chart(weekly).encode(
            # Month/day reads the same in Japanese and English (Vega's default is "Aug 31, 2026").
            x=alt.X("week:O", title=t("analytics.dash.week"), timeUnit="yearmonthdate",
                    axis=alt.Axis(format="%-m/%-d", labelAngle=0)),
            y=alt.Y("learner_id:N", title=t("analytics.dash.pupil"),
                          axis=alt.Axis(labelOverlap=False, labelLimit=260)),
            tooltip=[alt.Tooltip("learner_id:N", title=t("analytics.dash.pupil")),
                     alt.Tooltip("week:T", title=t("analytics.dash.week")),
                     alt.Tooltip("minutes:Q", title=t("analytics.dash.minutes")),
                     alt.Tooltip("repair:N", title=repair_label)])
        heat = base.mark_rect().encode(
            color=alt.Color("minutes:Q", title=t("analytics.dash.minutes"), scale=alt.Scale(scheme="blues")))
        # Weeks with the tablet in repair: outlined in red.
        in_repair = base.transform_filter(alt.datum.in_repair).mark_rect(
            fillOpacity=0, stroke="#c62828", strokeWidth=2)
        show_chart(ctx, heat + in_repair, height=max(240, 18 * weekly["learner_id"].n_unique() + 80))
    st.caption(t("analytics.dash.no_repair_data") if repairs is None else t("analytics.dash.repair_legend"))

with tab_help:
    st.subheader(t("analytics.dash.help_title"))
    st.caption(t("analytics.dash.help_rules", failed=dashboards.FAILED_ATTEMPTS,
                 low=int(dashboards.LOW_MASTERY * 100), median=int(dashboards.CLASS_MEDIAN_OVER * 100),
                 days=dashboards.INACTIVE_SCHOOL_DAYS))
    if help_list:
        # One line per pupil with every reason, wrapped (a data grid would cut long reasons off).
        st.table(pd.DataFrame(
            [{t("analytics.dash.pupil"): names.get(pupil, pupil),
              t("analytics.dash.reason"): t("analytics.dash.reason_sep").join(
                  t(r.key, **{k: t.value(v) for k, v in r.params.items()}) for r in reasons)}
             for pupil, reasons in dashboards.help_by_pupil(help_list)]).set_index(t("analytics.dash.pupil")))
    else:
        st.success(t("analytics.dash.help_none"))
    st.subheader(t("analytics.dash.activity_title"))
    st.dataframe(
        [{t("analytics.dash.pupil"): names.get(row["learner_id"], row["learner_id"]),
          t("analytics.dash.last_active"): t.date(row["last_active"]) if row["last_active"] else "—",
          t("analytics.dash.idle_days"): row["idle_school_days"],
          t("analytics.dash.statements"): row["statements"]}
         for row in dashboards.activity_overview(ctx.store, ctx.clock, ctx.actor, grade, class_name)],
        hide_index=True, width="stretch")

with tab_pupil:
    pupils = [row["learner_id"] for row in dashboards.activity_overview(ctx.store, ctx.clock, ctx.actor,
                                                                        grade, class_name)]
    st.caption(t("analytics.dash.pupil_logged"))
    learner = st.selectbox(t("analytics.dash.pupil"), pupils, index=None, key="analytics_pupil",
                           placeholder=t("analytics.dash.pick_pupil"), format_func=lambda p: names.get(p, p))
    if learner:
        try:
            timeline = dashboards.pupil_timeline(ctx.store, ctx.clock, ctx.actor, learner, lang=ctx.lang)
        except ManabiError as exc:
            show_error(ctx, exc)
            st.stop()
        reasons = [r for r in help_list if r.learner_id == learner]
        for r in reasons:
            st.warning(t(r.key, **{k: t.value(v) for k, v in r.params.items()}))
        repair_weeks = dashboards.pupil_repair_weeks(ctx.store, ctx.clock, ctx.actor, learner)
        if repair_weeks:
            st.info(t("analytics.dash.pupil_repairs",
                      weeks=", ".join(t("analytics.dash.week_of", date=t.date(w)) for w in repair_weeks)),
                    icon=":material/build:")
        elif repair_weeks is not None:
            st.caption(t("analytics.dash.pupil_no_repairs"))
        # Verbs the catalogue knows read in the visitor's language; others stay as sent.
        verbs = {v: t(f"analytics.verb.{v}") for v in timeline["verb"].unique().to_list()
                 if t.has(f"analytics.verb.{v}")}
        timeline = timeline.with_columns(timeline["verb"].replace(verbs))
        scored = timeline.filter(timeline["score"].is_not_null())
        if not scored.is_empty():
            outcome = alt.Scale(domain=[verbs.get(v, v) for v in ("passed", "failed", "completed")],
                                range=[CATEGORY_COLOURS[0], CATEGORY_COLOURS[5], CATEGORY_COLOURS[2]])
            show_chart(
                ctx, alt.Chart(scored).mark_point(size=70, filled=True).encode(
                    x=alt.X("at:T", title=t("analytics.dash.when")),
                    y=alt.Y("score:Q", title=t("analytics.dash.score"), scale=alt.Scale(domain=[0, 1])),
                    # Colour and shape both tell the outcome apart.
                    color=alt.Color("verb:N", title=t("analytics.dash.verb"), scale=outcome),
                    shape=alt.Shape("verb:N", title=t("analytics.dash.verb"), scale=alt.Scale(
                        domain=outcome.domain, range=["circle", "cross", "square"])),
                    tooltip=[alt.Tooltip("activity:N", title=t("analytics.dash.activity")),
                             alt.Tooltip("score:Q", title=t("analytics.dash.score"), format=".0%"),
                             alt.Tooltip("minutes:Q", title=t("analytics.dash.minutes"))],
                ))
        st.dataframe(timeline.rename({
            "at": t("analytics.dash.when"), "verb": t("analytics.dash.verb"),
            "activity": t("analytics.dash.activity"), "unit_code": t("analytics.dash.unit_code"),
            "score": t("analytics.dash.score"), "success": t("analytics.dash.success"),
            "minutes": t("analytics.dash.minutes")}), hide_index=True, width="stretch")

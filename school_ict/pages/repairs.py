"""Repairs: open tickets, reporting a fault, closing a ticket, and breakage per 100
devices per term by school and model."""

import altair as alt
import polars as pl
import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import md_escape, page_context, show_chart, show_error
from school_ict.pages._shared import pick_school, school_names
from school_ict.services import repairs

ctx = page_context("teacher", "school_admin", "city_admin")
t = ctx.t
st.title(t("ict.repairs.title"))
school_id = pick_school(ctx)
manager = ctx.actor.has("school_admin", "city_admin")
school_label = school_names(ctx)


def ticket_rows(tickets):
    return [{t("ict.repairs.ticket"): r.id, t("ict.col.asset_tag"): r.asset_tag, t("ict.col.school"): school_label.get(r.school_code, r.school_code),
             t("ict.col.model"): r.model, t("ict.col.opened_at"): t.datetime(r.opened_at, "short"),
             t("ict.col.symptom"): r.symptom, t("ict.col.cause"): t(f"ict.cause.{r.cause}"),
             t("ict.col.pupil"): r.pupil or "", t("ict.col.state"): t(f"ict.repair_state.{r.state}"),
             t("ict.col.closed_at"): t.datetime(r.closed_at, "short") if r.closed_at else ""} for r in tickets]


open_tab, all_tab, breakage_tab = st.tabs([t("ict.repairs.tab_open"), t("ict.repairs.tab_all"),
                                          t("ict.repairs.tab_breakage")])
with open_tab:
    open_tickets = repairs.list_repairs(ctx.store, ctx.actor, school_id, open_only=True)
    st.dataframe(ticket_rows(open_tickets), hide_index=True)
    left, right = st.columns(2)
    with left.form("ict_new_repair", clear_on_submit=True):
        st.subheader(t("ict.repairs.new"), anchor=False)
        tag = st.text_input(t("ict.device.tag"))
        symptom = st.text_input(t("ict.col.symptom"))
        cause = st.selectbox(t("ict.col.cause"), repairs.CAUSES, format_func=lambda c: t(f"ict.cause.{c}"))
        if st.form_submit_button(t("ict.repairs.new"), type="primary"):
            try:
                repairs.open_repair(ctx.store, ctx.clock, ctx.actor, tag, symptom, cause)
            except ManabiError as exc:
                show_error(ctx, exc)
            else:
                st.success(t("ict.repairs.opened", tag=md_escape(tag.strip())))
    if manager and open_tickets:
        with right.form("ict_close_repair"):
            st.subheader(t("ict.repairs.close"), anchor=False)
            ticket = st.selectbox(t("ict.repairs.ticket"), [r.id for r in open_tickets],
                                  format_func=lambda i: next(f"{i}: {r.asset_tag} — {r.symptom}"
                                                             for r in open_tickets if r.id == i))
            outcome = st.radio(t("ict.repairs.outcome"), list(repairs.OUTCOMES),
                               format_func=lambda o: t(f"ict.repair_state.{o}"), horizontal=True)
            resolution = st.text_input(t("ict.repairs.resolution"))
            if st.form_submit_button(t("ict.repairs.close")):
                try:
                    repairs.close_repair(ctx.store, ctx.clock, ctx.actor, ticket, outcome, resolution)
                except ManabiError as exc:
                    show_error(ctx, exc)
                else:
                    st.success(t("ict.repairs.closed", repair=ticket))

with all_tab:
    st.dataframe(ticket_rows(repairs.list_repairs(ctx.store, ctx.actor, school_id)), hide_index=True, height=400)

with breakage_tab:
    st.caption(t("ict.repairs.breakage_help"))
    rows = repairs.breakage(ctx.store, ctx.actor, school_id)
    table = [{t("ict.col.term"): t("ict.repairs.term_label", year=r["fiscal_year"], term=r["term"]),
              t("ict.col.school"): school_label.get(r["school_code"], r["school_code"]), t("ict.col.model"): r["model"],
              t("ict.col.repairs"): r["repairs"], t("ict.col.devices"): r["devices"],
              t("ict.col.breakage"): r["per_100"]} for r in rows]
    by_model = repairs.breakage_by_model(ctx.store, ctx.actor, school_id)
    if by_model:
        frame = pl.DataFrame([{t("ict.col.term"): t("ict.repairs.term_label", year=r["fiscal_year"], term=r["term"]),
                               t("ict.col.model"): r["model"], t("ict.col.repairs"): r["repairs"],
                               t("ict.col.breakage"): r["per_100"]} for r in by_model])
        chart = alt.Chart(frame).mark_bar().encode(
            x=alt.X(f"{t('ict.col.term')}:N", sort=None, axis=alt.Axis(labelAngle=0)),
            xOffset=f"{t('ict.col.model')}:N", y=f"{t('ict.col.breakage')}:Q", color=f"{t('ict.col.model')}:N",
            tooltip=[t("ict.col.term"), t("ict.col.model"), t("ict.col.repairs"), t("ict.col.breakage")])
        show_chart(ctx, chart)
    else:
        st.info(t("ict.repairs.no_breakage"))
    st.dataframe(table, hide_index=True)

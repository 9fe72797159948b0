"""Run the lottery (facility staff): set up a month, put slots to the lottery, draw, audit."""

from datetime import timedelta

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import catalogue, lottery
from kernel.ui import action, page_context

ctx = page_context("facility_staff", "city_admin")
t, lang, actor = ctx.t, ctx.lang, ctx.actor
st.title(t("nav.facilities_staff_lottery"))
today = ctx.clock.now().date()
facilities = catalogue.list_facilities(ctx.store)
rooms = {r.id: (f, r) for f in facilities for r in f.rooms}

with st.expander(t("staff_lottery.new_month"), icon=":material/add:"), st.form("lottery_new_month"):
    month = st.selectbox(t("lottery_page.month"), shared.months_from(today, 6)[1:],
                         format_func=lambda m: shared.month_label(t, m))
    c1, c2, c3 = st.columns(3)
    apply_from = c1.date_input(t("staff_lottery.apply_from"), value=today, format="YYYY-MM-DD")
    apply_until = c2.date_input(t("staff_lottery.apply_until"), value=today + timedelta(days=9),
                                format="YYYY-MM-DD")
    draw_on = c3.date_input(t("staff_lottery.draw_on"), value=today + timedelta(days=10), format="YYYY-MM-DD")
    c1, c2, c3 = st.columns(3)
    confirm_by = c1.date_input(t("staff_lottery.confirm_by"), value=today + timedelta(days=17),
                               format="YYYY-MM-DD")
    open_on = c2.date_input(t("staff_lottery.open_on"), value=today + timedelta(days=20), format="YYYY-MM-DD")
    max_choices = c3.number_input(t("staff_lottery.max_choices"), min_value=1, max_value=10, value=3)
    if st.form_submit_button(t("staff_lottery.create"), type="primary"):
        with action(ctx, done=t("staff_lottery.created", month=month)):
            lottery.create_month(ctx.store, ctx.clock, actor, month, apply_from=apply_from,
                                 apply_until=apply_until, draw_on=draw_on, confirm_by=confirm_by,
                                 open_on=open_on, max_choices=int(max_choices))

chosen = shared.lottery_month(ctx, "staff_lottery_month")
month = chosen.month

slots = lottery.slots_of(ctx.store, month)
st.metric(t("staff_lottery.slots"), len(slots), help=t("staff_lottery.applications_total",
                                                        count=sum(s.applicants for s in slots)))

if not chosen.drawn:
    with st.expander(t("staff_lottery.mark"), icon=":material/playlist_add:"), st.form("lottery_mark"):
        picked = st.multiselect(t("book.room"), list(rooms),
                                format_func=lambda i: f"{rooms[i][0].name(lang)} — {rooms[i][1].name(lang)}")
        weekdays = st.multiselect(t("staff_lottery.weekdays"), list(range(1, 8)), default=[6, 7],
                                  format_func=lambda d: shared.weekday_name(t, d))
        blocks = st.multiselect(t("book.block"), ["am", "pm", "ev"], default=["pm", "ev"],
                                format_func=lambda b: t(f"block.{b}"))
        if st.form_submit_button(t("staff_lottery.mark_submit")):
            with action(ctx) as outcome:
                added = lottery.mark_slots(ctx.store, ctx.clock, actor, month, picked, weekdays, blocks)
                outcome.done(t("staff_lottery.marked", count=added))
    st.subheader(t("staff_lottery.draw"), anchor=False)
    seed = st.text_input(t("staff_lottery.seed"), help=t("staff_lottery.seed_help"), key="staff_lottery_seed")
    if st.button(t("staff_lottery.draw_now"), type="primary", icon=":material/casino:", key="staff_lottery_draw",
                 disabled=today < chosen.draw_on, help=t("lottery.too_early", day=t.date(chosen.draw_on))):
        with action(ctx) as outcome:
            steps = lottery.draw(ctx.store, ctx.clock, actor, month, seed=seed.strip() or None)
            outcome.done(t("staff_lottery.drawn", count=len(steps)))
else:
    record = lottery.audit(ctx.store, actor, month)
    if record.replay_matches:
        st.success(t("lottery.audit_ok", month=month, seed=record.seed, steps=len(record.steps)))
    else:
        st.error(t("lottery.audit_differs", month=month, seed=record.seed))
    names = catalogue.user_names(ctx.store, sorted({u for s in record.steps for u in s.applicants}))
    st.dataframe([
        {t("staff_lottery.step"): s.step,
         t("lottery_page.slot"): f"{t.date(s.slot[1])} {t(f'block.{s.slot[2]}')} "
                                 f"{rooms[s.slot[0]][0].name(lang)} {rooms[s.slot[0]][1].name(lang)}",
         t("lottery_page.choice"): s.choice,
         t("staff_lottery.order"): " → ".join(names.get(u, str(u)) for u in s.applicants),
         t("staff_lottery.winner"): names.get(s.winner_id, str(s.winner_id))}
        for s in record.steps], hide_index=True, width="stretch")

"""The lottery (signed in): apply for popular slots with ranked choices, see results, confirm a win."""

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import booking, catalogue, lottery
from kernel.errors import ManabiError
from kernel.ui import action, flash, md_escape, page_context, show_error

ctx = page_context()
t, lang, actor = ctx.t, ctx.lang, ctx.actor
st.title(t("nav.facilities_lottery"))
if not actor.signed_in:
    st.info(t("vacancy.sign_in_to_book"), icon=":material/login:")
    st.stop()
st.caption(t("lottery_page.intro"))

today = ctx.clock.now().date()

# Wins waiting for confirmation come first: they are lost if not confirmed in time.
for won in [b for b in booking.my_bookings(ctx.store, actor) if b.status == "won"]:
    with st.container(border=True):
        st.markdown(t("lottery_page.won", place=md_escape(won.place(lang)), day=t.date(won.day, "full"),
                      block=t(f"block.{won.block_code}"), total=t.money(won.total_yen),
                      deadline=t.datetime(won.confirm_by, "short")))
        if st.button(t("lottery_page.confirm"), key=f"confirm_{won.id}", type="primary", icon=":material/check:"):
            try:
                lottery.confirm(ctx.store, ctx.clock, actor, won.id)
            except ManabiError as exc:
                show_error(ctx, exc)
            else:
                flash(t("lottery_page.confirmed"))
                st.switch_page(shared.page_path("my_bookings.py"), query_params={"booking": str(won.id)})

chosen = shared.lottery_month(ctx, "lottery_month")
month = chosen.month
phase = chosen.phase(today)
st.info(t(f"lottery_page.phase_{phase}"), icon=":material/info:")

facilities = {f.id: f for f in catalogue.list_facilities(ctx.store)}
rooms = {r.id: (f, r) for f in facilities.values() for r in f.rooms}
slots = lottery.slots_of(ctx.store, month)


def slot_label(slot) -> str:
    room_id, day, block = slot
    facility, room = rooms[room_id]
    return f"{t.date(day)} {t(f'block.{block}')} — {facility.name(lang)} {room.name(lang)}"


mine = lottery.my_applications(ctx.store, actor, month)
if mine:
    st.subheader(t("lottery_page.mine"), anchor=False)
    st.dataframe([{t("lottery_page.choice"): a.choice, t("lottery_page.slot"): slot_label(a.slot),
                   t("lottery_page.result"): t(f"lottery_page.result_{a.result or 'pending'}")} for a in mine],
                 hide_index=True, width="stretch")

if phase == "applying" and slots:
    st.subheader(t("lottery_page.apply"), anchor=False)
    st.dataframe([{t("lottery_page.slot"): slot_label((s.room_id, s.day, s.block_code)),
                   t("lottery_page.applicants"): s.applicants} for s in slots],
                 hide_index=True, width="stretch", height=250)
    options = [(s.room_id, s.day, s.block_code) for s in slots]
    with st.form("lottery_apply"):
        picks = st.multiselect(t("lottery_page.picks", max=chosen.max_choices), options, format_func=slot_label,
                               max_selections=chosen.max_choices, default=[a.slot for a in mine if a.slot in options],
                               placeholder=t("lottery_page.pick_placeholder"))
        left, right = st.columns(2)
        party = left.radio(t("book.party"), ["group", "individual"], horizontal=True,
                           format_func=lambda p: t(f"party.{p}"))
        attendees = right.number_input(t("book.attendees"), min_value=1, value=10, step=1)
        purpose = st.text_input(t("book.purpose"), max_chars=100)
        if st.form_submit_button(t("lottery_page.submit"), type="primary", key="lottery_submit"):
            with action(ctx) as outcome:
                lottery.apply(ctx.store, ctx.clock, actor, month, picks, purpose=purpose, attendees=int(attendees),
                              party=party)
                outcome.done(t("lottery_page.applied", count=len(picks)))

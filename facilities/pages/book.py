"""Book a room (signed in): choose the room, date and block, see the fee, book."""

import contextlib
from datetime import date, timedelta

import streamlit as st

from facilities.pages import common
from facilities.services import booking, catalog
from kernel.errors import ManabiError
from kernel.ui import flash, md_escape, page_context, show_error

ctx = page_context()
t, lang, actor = ctx.t, ctx.lang, ctx.actor
st.title(t("nav.facilities_book"))
if not actor.signed_in:
    st.info(t("vacancy.sign_in_to_book"), icon=":material/login:")
    st.stop()

facilities = catalog.list_facilities(ctx.store)
rooms = {r.id: (f, r) for f in facilities for r in f.rooms}
if not rooms:
    st.info(t("vacancy.no_facilities"))
    st.stop()
today = ctx.clock.now().date()

# Prefill from the vacancy or search page (?room=..&day=..&block=..).
params = st.query_params
if params.get("room", "").isdigit() and int(params["room"]) in rooms:
    st.session_state["book_room"] = int(params["room"])
    with contextlib.suppress(ValueError):
        st.session_state["book_day"] = max(date.fromisoformat(params.get("day", "")), today)
    if params.get("block") in ("am", "pm", "ev"):
        st.session_state["book_block"] = params["block"]
    st.query_params.clear()  # applied once; later choices on this page are the visitor's

room_id = st.selectbox(t("book.room"), list(rooms), key="book_room",
                       format_func=lambda i: f"{rooms[i][0].name(lang)} — {rooms[i][1].name(lang)}")
facility, room = rooms[room_id]
profile = catalog.profile(ctx.store, actor.user_id)
ahead = facility.resident_days_ahead if profile.is_resident else facility.nonresident_days_ahead
left, middle = st.columns(2)
day = left.date_input(t("book.day"), value=today + timedelta(days=1), min_value=today,
                      max_value=today + timedelta(days=ahead), key="book_day", format="YYYY-MM-DD")
block = middle.selectbox(t("book.block"), [b.code for b in facility.blocks], key="book_block",
                         format_func=lambda c: common.block_label(t, facility, c))
left, middle = st.columns(2)
attendees = left.number_input(t("book.attendees"), min_value=1, max_value=room.capacity, value=1, step=1,
                              key="book_attendees", help=t("book.capacity", capacity=room.capacity))
party = middle.radio(t("book.party"), ["group", "individual"], horizontal=True, key="book_party",
                     index=0 if profile.group_name else 1, format_func=lambda p: t("party." + p))
equipment = {e.code: e for e in catalog.list_equipment(ctx.store)}
addon_choices = [code for code in room.equipment if code in equipment and equipment[code].addon_yen > 0]
addons = st.multiselect(t("book.addons"), addon_choices, key="book_addons", placeholder=t("book.no_addons"),
                        format_func=lambda c: f"{equipment[c].name(lang)} (+{t.money(equipment[c].addon_yen)})")
purpose = st.text_input(t("book.purpose"), key="book_purpose", max_chars=100)

free = booking.is_free(ctx.store, room.id, day, block, now=ctx.clock.now())
try:
    quote = booking.quote(ctx.store, actor, room.id, block, party=party, addons=addons)
except ManabiError as exc:
    show_error(ctx, exc)
    st.stop()

with st.container(border=True):
    st.metric(t("book.total"), t.money(quote.total_yen))
    lines = [t("book.room_fee", fee=t.money(quote.room_yen), residency=t("residency." + quote.residency),
               party=t("party." + quote.party))]
    if quote.reduction_yen:
        lines.append(t("book.reduction", amount=t.money(quote.reduction_yen), percent=quote.reduction_percent,
                       reason=quote.reduction_reason or ""))
    if quote.addon_yen:
        lines.append(t("book.addon_fee", amount=t.money(quote.addon_yen)))
    lines.append(t("book.tax_included", tax=t.money(quote.tax_yen)))
    st.markdown("  \n".join(lines))
    st.caption(t("book.rules", pay=facility.pay_within_days, cancel=facility.cancel_days_before,
                 limit=facility.max_blocks_per_month))

if not free:
    st.warning(t("book.slot_not_free"), icon=":material/event_busy:")
if st.button(t("book.submit"), type="primary", icon=":material/event_available:", disabled=not free,
             key="book_submit"):
    try:
        made = booking.book(ctx.store, ctx.clock, actor, room.id, day, block, purpose=purpose,
                            attendees=int(attendees), party=party, addons=addons)
    except ManabiError as exc:
        show_error(ctx, exc)
    else:
        flash(t("book.done", place=md_escape(made.place(lang)), day=t.date(made.day), block=t("block." + made.block_code),
                total=t.money(made.total_yen)))
        st.switch_page(common.page_path("my_bookings.py"), query_params={"booking": str(made.id)})

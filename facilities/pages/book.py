"""Book a room (signed in): choose the room, date and block, see the fee, book. What cannot be
booked is marked and said in words before the visitor presses 予約する (the service answers it)."""

import contextlib
from datetime import date, timedelta

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import booking, catalogue, vacancy
from kernel.errors import ManabiError
from kernel.ui import action, flash, md_escape, page_context, show_error

ctx = page_context()
t, lang, actor = ctx.t, ctx.lang, ctx.actor
st.title(t("nav.facilities_book"))
if not actor.signed_in:
    st.info(t("vacancy.sign_in_to_book"), icon=":material/login:")
    st.stop()

facilities = catalogue.list_facilities(ctx.store)
rooms = {r.id: (f, r) for f in facilities for r in f.rooms}
if not rooms:
    st.info(t("vacancy.no_facilities"))
    st.stop()
today = ctx.clock.now().date()
last_day = vacancy.last_day_shown(today)

# Prefill from the vacancy or search page (?room=..&day=..&block=..).
params = st.query_params
if params.get("room", "").isdigit() and int(params["room"]) in rooms:
    st.session_state["book_room"] = int(params["room"])
    with contextlib.suppress(ValueError):
        st.session_state["book_day"] = min(max(date.fromisoformat(params.get("day", "")), today), last_day)
    if params.get("block") in ("am", "pm", "ev"):
        st.session_state["book_block"] = params["block"]
    for name in ("room", "day", "block"):  # applied once; later choices on this page are the visitor's
        del st.query_params[name]

room_id = st.selectbox(t("book.room"), list(rooms), key="book_room",
                       format_func=lambda i: f"{rooms[i][0].name(lang)} — {rooms[i][1].name(lang)}")
facility, room = rooms[room_id]
profile = catalogue.profile(ctx.store, actor.user_id)
if "book_day" not in st.session_state:  # first visit: the first day this room can be booked
    soon = vacancy.room_availability(ctx.store, ctx.clock, actor, room.id, today,
                                     min(today + timedelta(days=62), last_day))
    st.session_state["book_day"] = min((d for (d, _), a in soon.items() if a.bookable), default=today)
left, middle = st.columns(2)
day = left.date_input(t("book.day"), min_value=today, max_value=last_day, key="book_day", format="YYYY-MM-DD",
                      help=t("book.day_help"))
# The whole month of the chosen day, as the service answers it for this visitor.
month_first, month_last = day.replace(day=1), vacancy.month_days(day.replace(day=1))[-1]
month = vacancy.room_availability(ctx.store, ctx.clock, actor, room.id, month_first, month_last)
that_day = {b.code: month[(day, b.code)] for b in facility.blocks}
if st.session_state.get("book_block") not in that_day:
    st.session_state["book_block"] = next((c for c, a in that_day.items() if a.bookable), facility.blocks[0].code)
else:
    # The labels carry the day's marks; written back, the browser shows them anew for this day
    # (a keyed choice otherwise keeps the label it was first shown with).
    st.session_state["book_block"] = st.session_state["book_block"]


def block_choice(code: str) -> str:
    state = that_day[code].state
    return f"{shared.block_label(t, facility, code)} — {shared.marks(lang)[state]} {t(f'vacancy.state_{state}')}"


block = middle.selectbox(t("book.block"), list(that_day), key="book_block", format_func=block_choice)
chosen = that_day[block]
refusal = None  # said before the visitor presses anything, and on the disabled button
if not any(a.bookable for a in that_day.values()):
    reasons = dict.fromkeys(shared.reason_text(t, a.reason) for a in that_day.values())
    refusal = t("book.day_not_bookable", day=shared.day_label(t, day), reasons=" ".join(reasons))
elif not chosen.bookable:
    refusal = t("book.slot_not_bookable", day=shared.day_label(t, day), block=t("block." + block),
                reason=shared.reason_text(t, chosen.reason))
if refusal:
    st.warning(refusal, icon=":material/event_busy:")
# The room's month, always in view: what this visitor may book is ○ and leads here filled in.
st.markdown(f"**{md_escape(t('book.month_of_room', month=shared.month_label(t, f'{day:%Y-%m}'), room=room.name(lang)))}**")
days = vacancy.month_days(month_first)
rows = [(t("block." + b.code), room.id, b.code, {d: month[(d, b.code)].state for d in days},
         {d: month[(d, b.code)].reason for d in days}) for b in facility.blocks]
st.html(shared.grid_html(t, days, rows, lambda r, d, b: shared.book_href(t, r, d, b),
                         t("vacancy.grid_label", facility=f"{facility.name(lang)} {room.name(lang)}")))
st.caption(t("vacancy.tap_to_book") + " " + t("book.marks_mine"))
left, middle = st.columns(2)
attendees = left.number_input(t("book.attendees"), min_value=1, max_value=room.capacity, value=1, step=1,
                              key="book_attendees", help=t("book.capacity", capacity=room.capacity))
party = middle.radio(t("book.party"), ["group", "individual"], horizontal=True, key="book_party",
                     index=0 if profile.group_name else 1, format_func=lambda p: t("party." + p))
equipment = {e.code: e for e in catalogue.list_equipment(ctx.store)}
addon_choices = [code for code in room.equipment if code in equipment and equipment[code].addon_yen > 0]
addons = st.multiselect(t("book.addons"), addon_choices, key="book_addons", placeholder=t("book.no_addons"),
                        format_func=lambda c: f"{equipment[c].name(lang)} (+{t.money(equipment[c].addon_yen)})")
purpose = st.text_input(t("book.purpose"), key="book_purpose", max_chars=100)

with action(ctx, rerun=False, stop=True):
    quote = booking.quote(ctx.store, actor, room.id, block, party=party, addons=addons)

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

if st.button(t("book.submit"), type="primary", icon=":material/event_available:", disabled=not chosen.bookable,
             key="book_submit", help=refusal):
    try:
        made = booking.book(ctx.store, ctx.clock, actor, room.id, day, block, purpose=purpose,
                            attendees=int(attendees), party=party, addons=addons)
    except ManabiError as exc:
        show_error(ctx, exc)
    else:
        flash(t("book.done", place=md_escape(made.place(lang)), day=t.date(made.day), block=t("block." + made.block_code),
                total=t.money(made.total_yen)))
        st.switch_page(shared.page_path("my_bookings.py"), query_params={"booking": str(made.id)})

"""Facility setup (facility staff): booking rules, closed days and blackouts, fees per room."""

from datetime import timedelta

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import catalogue
from kernel.ui import action, page_context

ctx = page_context("facility_staff", "city_admin")
t, lang, actor = ctx.t, ctx.lang, ctx.actor
st.title(t("nav.facilities_staff"))
today = ctx.clock.now().date()
facilities = {f.id: f for f in catalogue.list_facilities(ctx.store)}
facility_id = st.selectbox(t("vacancy.facility"), list(facilities), format_func=lambda i: facilities[i].name(lang),
                           key="setup_facility")
facility = facilities[facility_id]

st.subheader(t("setup.rules"), anchor=False)
with st.form("setup_rules"):
    c1, c2, c3, c4 = st.columns(4)
    resident = c1.number_input(t("setup.resident_days"), min_value=1, max_value=400, value=facility.resident_days_ahead)
    nonresident = c2.number_input(t("setup.nonresident_days"), min_value=1, max_value=400,
                                  value=facility.nonresident_days_ahead)
    limit = c3.number_input(t("setup.month_limit"), min_value=1, max_value=100, value=facility.max_blocks_per_month)
    cancel = c4.number_input(t("setup.cancel_days"), min_value=0, max_value=60, value=facility.cancel_days_before)
    closed = st.multiselect(t("setup.closed_weekdays"), list(range(1, 8)), default=list(facility.closed_weekdays),
                            format_func=lambda d: shared.weekday_name(t, d))
    if st.form_submit_button(t("setup.save"), type="primary", key="setup_rules_save"):
        with action(ctx, done=t("setup.saved")):
            catalogue.update_rules(ctx.store, ctx.clock, actor, facility.id, resident_days_ahead=int(resident),
                                 nonresident_days_ahead=int(nonresident), max_blocks_per_month=int(limit),
                                 cancel_days_before=int(cancel), closed_weekdays=closed)

st.subheader(t("setup.closures"), anchor=False)
closures = catalogue.list_closures(ctx.store, facility.id)
rooms = {r.id: r for r in facility.rooms}
st.dataframe([{t("setup.first_day"): c.first_day, t("setup.last_day"): c.last_day,
               t("vacancy.room"): rooms[c.room_id].name(lang) if c.room_id in rooms else t("setup.whole_facility"),
               t("setup.reason"): c.reason} for c in closures], hide_index=True, width="stretch")
with st.form("setup_closure"):
    c1, c2, c3 = st.columns(3)
    first = c1.date_input(t("setup.first_day"), value=today + timedelta(days=14), format="YYYY-MM-DD")
    last = c2.date_input(t("setup.last_day"), value=today + timedelta(days=14), format="YYYY-MM-DD")
    room_id = c3.selectbox(t("vacancy.room"), [None, *rooms],
                           format_func=lambda i: rooms[i].name(lang) if i else t("setup.whole_facility"))
    reason = st.text_input(t("setup.reason"))
    if st.form_submit_button(t("setup.add_closure"), key="setup_closure_add"):
        with action(ctx, done=t("setup.closure_added")):
            catalogue.add_closure(ctx.store, ctx.clock, actor, facility.id, first, last, reason, room_id=room_id)

st.subheader(t("setup.fees"), anchor=False)
room_id = st.selectbox(t("vacancy.room"), list(rooms), format_func=lambda i: rooms[i].name(lang), key="setup_fee_room")
fees = catalogue.fee_table(ctx.store, room_id)
st.dataframe([{t("book.block"): shared.block_label(t, facility, b.code),
               **{f"{t(f'residency.{r}')}・{t(f'party.{p}')}": t.money(fees[(b.code, r, p)])
                  if (b.code, r, p) in fees else "—"
                  for r in ("resident", "nonresident") for p in ("group", "individual")}}
              for b in facility.blocks], hide_index=True, width="stretch")
with st.form("setup_fee"):
    c1, c2, c3, c4 = st.columns(4)
    block = c1.selectbox(t("book.block"), [b.code for b in facility.blocks], format_func=lambda c: t(f"block.{c}"))
    residency = c2.selectbox(t("setup.residency"), ["resident", "nonresident"],
                             format_func=lambda r: t(f"residency.{r}"))
    party = c3.selectbox(t("book.party"), ["group", "individual"], format_func=lambda p: t(f"party.{p}"))
    yen = c4.number_input(t("setup.yen"), min_value=0, max_value=1_000_000, value=1000, step=10)
    if st.form_submit_button(t("setup.save_fee"), key="setup_fee_save"):
        with action(ctx, done=t("setup.saved")):
            catalogue.set_fee(ctx.store, ctx.clock, actor, room_id, block, residency, party, int(yen))

st.subheader(t("setup.add_room"), anchor=False)
equipment = {e.code: e for e in catalogue.list_equipment(ctx.store)}
with st.form("setup_room"):
    c1, c2, c3 = st.columns(3)
    code = c1.text_input(t("setup.room_code"), max_chars=8)
    name_ja = c2.text_input(t("setup.name_ja"))
    name_en = c3.text_input(t("setup.name_en"))
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox(t("setup.room_kind"), list(catalogue.ROOM_KINDS), format_func=lambda k: t(f"room_kind.{k}"))
    capacity = c2.number_input(t("vacancy.capacity"), min_value=1, max_value=2000, value=20)
    accessible = c3.checkbox(t("vacancy.accessible"), value=True)
    fitted = st.multiselect(t("vacancy.equipment"), list(equipment), format_func=lambda c: equipment[c].name(lang),
                            placeholder=t("book.no_addons"))
    base = st.number_input(t("setup.base_fee"), min_value=0, max_value=1_000_000, value=600, step=10,
                           help=t("setup.base_fee_help"))
    if st.form_submit_button(t("setup.add_room_submit"), key="setup_room_add"):
        fees = {(b.code, r, p): int(base) if r == "resident" else int(round(base * 1.5, -1))
                for b in facility.blocks for r in ("resident", "nonresident") for p in ("group", "individual")}
        with action(ctx) as outcome:
            catalogue.add_room(ctx.store, ctx.clock, actor, facility.id, code=code.strip(), name_ja=name_ja.strip(),
                             name_en=name_en.strip(), kind=kind, capacity=int(capacity), equipment=fitted,
                             accessible=accessible, fees=fees)
            outcome.done(t("setup.room_added", name=name_ja.strip() if lang == "ja" else name_en.strip()))

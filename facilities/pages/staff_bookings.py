"""Bookings and payments (facility staff): find bookings, take counter payments, cancel,
release overdue ones, and set a user's residency, group and reduction (減免)."""

from datetime import timedelta

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import booking, catalogue, payments
from kernel.ui import action, flash, page_context

ctx = page_context("facility_staff", "city_admin")
t, lang, actor = ctx.t, ctx.lang, ctx.actor
st.title(t("nav.facilities_staff_bookings"))
today = ctx.clock.now().date()
facilities = {f.id: f for f in catalogue.list_facilities(ctx.store)}

left, middle, right = st.columns(3)
facility_id = left.selectbox(t("vacancy.facility"), list(facilities), format_func=lambda i: facilities[i].name(lang),
                             key="staff_facility")
period = middle.date_input(t("search.dates"), value=(today, today + timedelta(days=30)), format="YYYY-MM-DD",
                           key="staff_period")
status = right.selectbox(t("my.status"), [None, "confirmed", "won", "cancelled", "released"],
                         format_func=lambda s: t(f"status.{s}") if s else t("kind.any"), key="staff_status")
first, last = (period[0], period[-1]) if isinstance(period, tuple) and period else (today, today)
found = booking.staff_bookings(ctx.store, actor, facility_id=facility_id, first_day=first, last_day=last,
                               status=status)
names = catalogue.user_names(ctx.store, sorted({b.user_id for b in found}))
st.dataframe([{
    t("my.number"): b.id,
    t("my.when"): f"{t.date(b.day)} {t(f'block.{b.block_code}')}",
    t("vacancy.room"): b.room_ja if lang == "ja" else b.room_en,
    t("staff.user"): names.get(b.user_id, "—"),
    t("my.status"): t(f"status.{b.status}"),
    t("my.total"): t.money(b.total_yen),
    t("my.owed"): t.money(b.owed_yen) if b.owed_yen else "—",
    t("staff.reduction"): b.reduction_reason or "—",
} for b in found], hide_index=True, width="stretch", height=320)

if st.button(t("staff.release"), icon=":material/timer_off:", key="staff_release", help=t("staff.release_help")):
    released = booking.release_overdue(ctx.store, ctx.clock)
    flash(t("facilities.released", count=len(released)))
    st.rerun()

if found:
    by_id = {b.id: b for b in found}
    chosen = st.selectbox(t("my.choose"), list(by_id), key="staff_booking",
                          format_func=lambda i: f"#{i} {t.date(by_id[i].day)} {t(f'block.{by_id[i].block_code}')} "
                                                f"{names.get(by_id[i].user_id, '')}")
    b = by_id[chosen]
    left, right = st.columns(2)
    owes = bool(b.owed_yen) and b.status == "confirmed"
    if owes and left.button(t("staff.counter_paid", amount=t.money(b.owed_yen)), type="primary",
                            key="staff_counter", icon=":material/payments:"):
        with action(ctx) as outcome:
            payments.record_counter_payment(ctx.store, ctx.clock, actor, b.id, b.owed_yen)
            outcome.done(t("staff.counter_done", amount=t.money(b.owed_yen)))
    if b.status in booking.LIVE and right.button(t("my.cancel"), key="staff_cancel", icon=":material/event_busy:"):
        shared.cancel_booking(ctx, actor, b.id)

st.subheader(t("staff.profile"), anchor=False)
with st.form("staff_profile"):
    login = st.text_input(t("staff.login"))
    reductions = {r.code: r for r in catalogue.list_reductions(ctx.store)}
    left, right = st.columns(2)
    is_resident = left.checkbox(t("staff.is_resident"), value=True)
    group = right.text_input(t("staff.group"))
    reduction = st.selectbox(t("staff.reduction"), [None, *reductions],
                             format_func=lambda c: reductions[c].name(lang) if c else t("staff.no_reduction"))
    note = st.text_input(t("staff.reduction_note"), help=t("staff.reduction_note_help"))
    if st.form_submit_button(t("staff.save_profile"), key="staff_profile_save"):
        with action(ctx, rerun=False) as outcome:
            user_id = catalogue.user_id_for_login(ctx.store, login.strip())
            catalogue.save_profile(ctx.store, ctx.clock, actor, user_id, is_resident=is_resident, group_name=group,
                                 reduction_code=reduction, reduction_note=note)
            outcome.done(t("staff.profile_saved", login=login.strip()))

"""My bookings (signed in): what I booked, what I owe and how to pay (QR), receipts,
cancelling, and my calendar feed."""

from urllib.parse import urlsplit

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import booking, calendar_feed, catalogue, payments
from kernel.ui import action, md_escape, page_context

ctx = page_context()
t, lang, actor = ctx.t, ctx.lang, ctx.actor
st.title(t("nav.facilities_my"))
if not actor.signed_in:
    st.info(t("vacancy.sign_in_to_book"), icon=":material/login:")
    st.stop()

mine = booking.my_bookings(ctx.store, actor)
if not mine:
    st.info(t("my.none"))
    st.stop()

now = ctx.clock.now()
upcoming = [b for b in mine if b.ends >= now]
past = [b for b in mine if b.ends < now]


def row(b: booking.Booking) -> dict:
    return {
        t("my.number"): b.id,
        t("my.when"): f"{t.date(b.day)} {t('block.' + b.block_code)} {b.starts:%H:%M}–{b.ends:%H:%M}",
        t("my.place"): b.place(lang),
        t("my.status"): t("status." + b.status),
        t("my.total"): t.money(b.total_yen),
        t("my.owed"): t.money(b.owed_yen) if b.owed_yen else "—",
        t("my.pay_by"): t.datetime(b.pay_by, "short") if b.owed_yen and b.pay_by else "—",
    }


st.subheader(t("my.upcoming"), anchor=False)
if upcoming:
    st.dataframe([row(b) for b in sorted(upcoming, key=lambda b: b.starts)], hide_index=True, width="stretch")
else:
    st.caption(t("ui.none"))
with st.expander(t("my.past", count=len(past))):
    st.dataframe([row(b) for b in past[:200]], hide_index=True, width="stretch")

by_id = {b.id: b for b in mine}
wanted = st.query_params.get("booking", "")
choices = [b.id for b in sorted(upcoming, key=lambda b: b.starts)] + [b.id for b in past]
index = choices.index(int(wanted)) if wanted.isdigit() and int(wanted) in by_id else 0
chosen = st.selectbox(t("my.choose"), choices, index=index, key="my_booking",
                      format_func=lambda i: f"#{i} {t.date(by_id[i].day)} {t('block.' + by_id[i].block_code)} "
                                            f"{by_id[i].place(lang)}")
b = by_id[chosen]

with st.container(border=True):
    st.markdown(f"**{md_escape(b.place(lang))}** — {t.date(b.day, 'full')} {b.starts:%H:%M}–{b.ends:%H:%M}")
    st.markdown(t("my.detail", status=t("status." + b.status), total=t.money(b.total_yen),
                  tax=t.money(b.tax_yen), ref=b.payment_ref))
    if b.reduction_yen:
        st.caption(t("book.reduction", amount=t.money(b.reduction_yen), percent="", reason=b.reduction_reason or ""))
    if b.status == "won":
        st.info(t("my.confirm_win", deadline=t.datetime(b.confirm_by, "short")), icon=":material/emoji_events:")
    if b.owed_yen:
        st.warning(t("my.owes", amount=t.money(b.owed_yen), deadline=t.datetime(b.pay_by, "short")),
                   icon=":material/payments:")
        if b.status == "confirmed":
            left, right = st.columns([1, 2])
            left.image(payments.qr_png(b), caption=b.payment_ref, width=200, alt=t("payments.qr_alt"))
            right.markdown(t("my.how_to_pay", ref=b.payment_ref, amount=t.money(b.owed_yen)))
            if right.button(t("my.check_payment"), icon=":material/refresh:", key="my_refresh"):
                st.rerun()
    elif b.paid_yen:
        st.success(t("my.paid", amount=t.money(b.paid_yen), at=t.datetime(b.paid_at, "short")),
                   icon=":material/check_circle:")
        st.download_button(t("my.receipt"), data=payments.receipt_pdf(ctx.store, actor, b.id, t, actor.display_name),
                           file_name=f"receipt-{b.payment_ref}.pdf", mime="application/pdf",
                           icon=":material/receipt_long:", key="my_receipt")
    if b.status in booking.LIVE:
        st.download_button(t("my.add_to_calendar"), key="my_ics", icon=":material/event:", mime="text/calendar",
                           data=calendar_feed.ics_for_booking(ctx.store, ctx.clock, actor, b.id, lang),
                           file_name=f"booking-{b.id}.ics")
    if b.refund_yen:
        st.info(t("my.refund", amount=t.money(b.refund_yen)), icon=":material/currency_yen:")
    if b.status in booking.LIVE and b.ends >= now:
        facility = catalogue.get_facility(ctx.store, b.facility_id)
        deadline = booking.cancel_deadline(facility, b.day)
        if now < deadline:
            st.caption(t("my.cancel_policy", deadline=t.datetime(deadline, "short"), days=facility.refund_full_days,
                         percent=facility.refund_late_percent))
            confirm = st.checkbox(t("my.cancel_confirm"), key=f"cancel_confirm_{b.id}")
            if st.button(t("my.cancel"), disabled=not confirm, icon=":material/event_busy:", key="my_cancel"):
                shared.cancel_booking(ctx, actor, b.id)
        else:
            st.caption(t("facilities.cancel_too_late", deadline=t.datetime(deadline, "short")))

st.subheader(t("my.registration"), anchor=False)
profile = catalogue.profile(ctx.store, actor.user_id)
reductions = {r.code: r for r in catalogue.list_reductions(ctx.store)}
st.markdown(t("my.registration_now", residency=t(f"residency.{'resident' if profile.is_resident else 'nonresident'}"),
              group=profile.group_name or "—",
              reduction=reductions[profile.reduction_code].name(lang) if profile.reduction_code in reductions else "—"))
st.caption(t("my.registration_help"))
with st.form("my_group"):
    group = st.text_input(t("staff.group"), value=profile.group_name or "", max_chars=60)
    if st.form_submit_button(t("my.save_group"), key="my_group_save"):
        with action(ctx, done=t("my.group_saved")):
            catalogue.save_profile(ctx.store, ctx.clock, actor, actor.user_id, is_resident=profile.is_resident,
                                 group_name=group)

st.subheader(t("my.calendar"), anchor=False)
st.caption(t("my.calendar_help"))
if st.button(t("my.calendar_show"), icon=":material/calendar_month:", key="my_calendar"):
    token = catalogue.calendar_token(ctx.store, ctx.clock, actor)
    here = urlsplit(st.context.url or "")
    origin = f"{here.scheme}://{here.netloc}" if here.scheme and here.netloc else ""
    st.code(f"{origin}/facilities/calendar/{token}.ics", language=None)

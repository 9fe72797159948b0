"""Check-out and check-in: one tablet to one pupil, a class set from a charging cart
(or pasted / scanned tags) to a classroom, and returns in bulk."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import action, md_escape, page_context, show_error
from school_ict.pages._shared import class_label, pick_school, show_bulk_result
from school_ict.services import registry

ctx = page_context("teacher", "school_admin", "city_admin")
t = ctx.t
st.title(t("ict.checkout.title"))
school_id = pick_school(ctx, allow_all=False)
rooms = registry.list_classrooms(ctx.store, ctx.actor, school_id)
room_label = {r.id: class_label(t, r.grade, r.class_name) for r in rooms}

one_tab, set_tab, return_tab = st.tabs([t("ict.checkout.one"), t("ict.checkout.class_set"), t("ict.checkout.return")])

with one_tab, st.form("ict_one", clear_on_submit=True):
    tag = st.text_input(t("ict.device.tag"), help=t("ict.device.tag_help"))
    pupil = st.text_input(t("ict.device.to_pupil"))
    if st.form_submit_button(t("ict.device.check_out"), type="primary"):
        with action(ctx, rerun=False) as outcome:
            device = registry.check_out(ctx.store, ctx.clock, ctx.actor, tag, pupil=pupil)
            outcome.done(t("ict.device.checked_out", tag=md_escape(device.asset_tag), holder=md_escape(device.holder)))

with set_tab, st.form("ict_class_set"):
    carts = registry.list_carts(ctx.store, ctx.actor, school_id)
    cart = st.selectbox(t("ict.checkout.cart"), [None, *carts],
                        format_func=lambda c: t("ict.checkout.cart_none") if c is None else c)
    pasted = st.text_area(t("ict.checkout.tags"), key="ict_set_tags")
    room = st.selectbox(t("ict.checkout.classroom"), list(room_label), format_func=room_label.get)
    if st.form_submit_button(t("ict.checkout.lend"), type="primary"):
        try:
            if cart is not None:
                result = registry.check_out_cart(ctx.store, ctx.clock, ctx.actor, school_id, cart, room)
            elif registry.split_tags(pasted):
                result = registry.check_out_many(ctx.store, ctx.clock, ctx.actor, registry.split_tags(pasted), room)
            else:
                result = None
                st.warning(t("ict.checkout.no_tags"))
        except ManabiError as exc:
            show_error(ctx, exc)
        else:
            if result is not None:
                show_bulk_result(ctx, result)

with return_tab:
    with st.form("ict_return_tags"):
        pasted_back = st.text_area(t("ict.checkout.tags"), key="ict_return_tags")
        if st.form_submit_button(t("ict.checkout.return_tags"), type="primary"):
            tags = registry.split_tags(pasted_back)
            if not tags:
                st.warning(t("ict.checkout.no_tags"))
            else:
                with action(ctx, rerun=False):
                    show_bulk_result(ctx, registry.check_in_many(ctx.store, ctx.clock, ctx.actor, tags))
    with st.form("ict_return_class"):
        back_room = st.selectbox(t("ict.checkout.classroom"), list(room_label), format_func=room_label.get)
        if st.form_submit_button(t("ict.checkout.return_class")):
            with action(ctx, rerun=False):
                show_bulk_result(ctx, registry.check_in_classroom(ctx.store, ctx.clock, ctx.actor, back_room))

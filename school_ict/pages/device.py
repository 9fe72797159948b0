"""One device: its details, its history (every change, who and when), and what can be
done with it now: check out or in, report a fault, change its status."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import flash, md_escape, page_context, show_error
from school_ict.pages._shared import class_label, school_names
from school_ict.services import registry, repairs

ctx = page_context("teacher", "school_admin", "city_admin")
t = ctx.t
st.title(t("ict.device.title"))

tag = st.text_input(t("ict.device.tag"), value=st.query_params.get("tag", ""), help=t("ict.device.tag_help"),
                    key="ict_device_tag").strip()
if not tag:
    st.info(t("ict.device.enter_tag"))
    st.stop()
try:
    device = registry.get_device(ctx.store, ctx.actor, tag)
except ManabiError as exc:
    show_error(ctx, exc)
    st.stop()

holder = class_label(t, device.class_grade, device.class_name) if device.classroom_id else device.holder
st.markdown(t("ict.device.summary" if holder else "ict.device.summary_free",
               status=t(f"ict.status.{device.status}"), holder=md_escape(holder), model=md_escape(device.model)))
left, right = st.columns([3, 2])
with left:
    fields = [
        ("ict.col.asset_tag", device.asset_tag), ("ict.col.serial", device.serial),
        ("ict.col.kind", t(f"ict.kind.{device.kind}")), ("ict.col.model", device.model),
        ("ict.col.os_version", device.os_version or "—"), ("ict.col.school", school_names(ctx).get(device.school_code, device.school_code)),
        ("ict.col.status", t(f"ict.status.{device.status}")), ("ict.col.holder", holder or "—"),
        ("ict.col.cart", device.cart or "—"),
        ("ict.col.purchase_date", t.date(device.purchase_date) if device.purchase_date else "—"),
        ("ict.col.warranty_end", t.date(device.warranty_end) if device.warranty_end else "—"),
        ("ict.col.support_end", t.date(device.support_end) if device.support_end else "—"),
        ("ict.col.last_seen", t.datetime(device.last_seen_at, "short") if device.last_seen_at else "—"),
        ("ict.col.annotated_user", device.annotated_user or "—"),
    ]
    # Tall enough to show every field without an inner scroll bar.
    st.dataframe([{t("ict.device.field"): t(k), t("ict.device.value"): str(v)} for k, v in fields], hide_index=True,
                 height=35 * (len(fields) + 1) + 3)

with right:
    st.subheader(t("ict.device.actions"), anchor=False)
    if device.status == "assigned":
        if st.button(t("ict.device.check_in"), type="primary", key="ict_check_in"):
            try:
                registry.check_in(ctx.store, ctx.clock, ctx.actor, device.asset_tag)
            except ManabiError as exc:
                show_error(ctx, exc)
            else:
                flash(t("ict.device.checked_in", tag=device.asset_tag))
                st.rerun()
    elif device.status == "in_stock":
        with st.form("ict_check_out"):
            targets = {"pupil": t("ict.device.target_pupil"), "teacher": t("ict.device.target_teacher"),
                       "classroom": t("ict.device.target_classroom")}
            target = st.radio(t("ict.device.target"), list(targets), format_func=targets.get, horizontal=True)
            who = st.text_input(t("ict.device.to_pupil") + " / " + t("ict.device.to_teacher"), key="ict_who")
            rooms = registry.list_classrooms(ctx.store, ctx.actor, device.school_id)
            room = st.selectbox(t("ict.device.to_classroom"), [r.id for r in rooms],
                                format_func=lambda r: next(class_label(t, x.grade, x.class_name)
                                                           for x in rooms if x.id == r))
            if st.form_submit_button(t("ict.device.check_out"), type="primary"):
                try:
                    done = registry.check_out(
                        ctx.store, ctx.clock, ctx.actor, device.asset_tag,
                        pupil=who if target == "pupil" else None, teacher=who if target == "teacher" else None,
                        classroom_id=room if target == "classroom" else None)
                except ManabiError as exc:
                    show_error(ctx, exc)
                else:
                    flash(t("ict.device.checked_out", tag=device.asset_tag,
                            holder=class_label(t, done.class_grade, done.class_name) if done.classroom_id
                            else done.holder))
                    st.rerun()
    if device.status in ("in_stock", "assigned"):
        with st.expander(t("ict.device.report_fault")), st.form("ict_report_fault"):
            symptom = st.text_input(t("ict.col.symptom"))
            cause = st.selectbox(t("ict.col.cause"), repairs.CAUSES, format_func=lambda c: t(f"ict.cause.{c}"))
            if st.form_submit_button(t("ict.device.report_fault")):
                try:
                    repairs.open_repair(ctx.store, ctx.clock, ctx.actor, device.asset_tag, symptom, cause)
                except ManabiError as exc:
                    show_error(ctx, exc)
                else:
                    flash(t("ict.repairs.opened", tag=device.asset_tag))
                    st.rerun()
    moves = sorted(registry.STATUS_MOVES[device.status])
    if ctx.actor.has("school_admin", "city_admin") and moves:
        with st.expander(t("ict.device.set_status")), st.form("ict_set_status"):
            new_status = st.selectbox(t("ict.device.new_status"), moves, format_func=lambda s: t(f"ict.status.{s}"))
            note = st.text_input(t("ict.device.note"))
            if st.form_submit_button(t("ict.device.set_status")):
                try:
                    registry.set_status(ctx.store, ctx.clock, ctx.actor, device.asset_tag, new_status, note)
                except ManabiError as exc:
                    show_error(ctx, exc)
                else:
                    flash(t("ict.device.status_set", tag=device.asset_tag, status=t(f"ict.status.{new_status}")))
                    st.rerun()

st.subheader(t("ict.device.history"), anchor=False)
st.dataframe(
    [{t("ict.col.when"): t.datetime(e.happened_at, "short"), t("ict.col.event"): t(f"ict.event.{e.kind}"),
      t("ict.col.from_status"): t(f"ict.status.{e.from_status}") if e.from_status else "",
      t("ict.col.to_status"): t(f"ict.status.{e.to_status}") if e.to_status else "",
      t("ict.col.detail"): e.detail, t("ict.col.who"): e.actor_login}
     for e in registry.history(ctx.store, ctx.actor, device.asset_tag)],
    hide_index=True)

"""My school's devices: what we have, who holds it, what is broken or missing,
and each class's readiness for an online lesson. The board sees every school."""

import altair as alt
import polars as pl
import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import page_context, show_chart, show_error
from school_ict.pages._shared import (
    class_label,
    device_frame_table,
    device_list,
    device_table,
    pick_school,
    school_names,
)
from school_ict.services import dashboard, labels, registry, usage

SHOWN_DEVICES = 500

ctx = page_context("teacher", "school_admin", "city_admin")
t = ctx.t
st.title(t("ict.dashboard.title"))
school_id = pick_school(ctx)

counts = {(r["kind"], r["status"]): r["devices"]
          for r in dashboard.status_counts(ctx.store, ctx.actor, school_id)}
pupil_total = sum(n for (kind, _), n in counts.items() if kind == "pupil_tablet")
cols = st.columns(4)
cols[0].metric(t("ict.dashboard.pupil_tablets"),
               f"{t.number(counts.get(('pupil_tablet', 'assigned'), 0))} / {t.number(pupil_total)}")
cols[1].metric(t("ict.dashboard.in_repair"), t.number(sum(n for (_, s), n in counts.items() if s == "in_repair")))
cols[2].metric(t("ict.dashboard.lost"), t.number(sum(n for (_, s), n in counts.items() if s == "lost")))
cols[3].metric(t("ict.dashboard.boards_down"),
               t.number(sum(n for (k, s), n in counts.items() if k == "e_blackboard" and s in ("in_repair", "lost"))))

tab_names = [t("ict.dashboard.tab_devices"), t("ict.dashboard.tab_classes"), t("ict.dashboard.tab_attention"),
             t("ict.usage.tab")]
if ctx.actor.has("city_admin") and school_id is None:
    tab_names.append(t("ict.dashboard.tab_schools"))
tabs = st.tabs(tab_names)

with tabs[0]:
    any_label = t("ict.dashboard.any")
    f1, f2, f3 = st.columns(3)
    status = f1.selectbox(t("ict.dashboard.filter_status"), [None, *registry.STATUSES],
                          format_func=lambda s: any_label if s is None else t(f"ict.status.{s}"))
    kind = f2.selectbox(t("ict.dashboard.filter_kind"), [None, *registry.KINDS],
                        format_func=lambda k: any_label if k is None else t(f"ict.kind.{k}"))
    search = f3.text_input(t("ict.dashboard.search"))
    filters = {"school_id": school_id, "status": status, "kind": kind, "search": search or None}
    total = registry.count_devices(ctx.store, ctx.actor, **filters)
    # A table of the whole city (11,000 devices) helps nobody: show the first rows, count all.
    devices = registry.device_frame(ctx.store, ctx.actor, limit=SHOWN_DEVICES, **filters)
    st.caption(t("ict.dashboard.shown", shown=t.number(devices.height), count=t.number(total)) + " "
               + t("ict.dashboard.open_device_help"))
    device_list(ctx, device_frame_table(ctx, devices), devices["asset_tag"].to_list(), key="ict_devices_table",
                height=420)
    if total <= labels.MAX_LABELS:
        shown_tags = devices["asset_tag"].to_list()
        st.download_button(t("ict.dashboard.labels"), icon=":material/qr_code_2:", mime="application/pdf",
                           file_name="asset-labels.pdf",
                           data=lambda: labels.label_sheet(ctx.store, ctx.actor, shown_tags))
    else:
        st.caption(t("ict.dashboard.labels_limit", limit=labels.MAX_LABELS))
    with st.expander(t("ict.dashboard.labels_pick")):
        picked = registry.split_tags(st.text_area(t("ict.checkout.tags"), key="ict_label_tags"))
        if picked:
            try:
                sheet = labels.label_sheet(ctx.store, ctx.actor, picked)
            except ManabiError as exc:
                show_error(ctx, exc)
            else:
                st.download_button(t("ict.dashboard.labels_picked", count=len(picked)), sheet,
                                   file_name="asset-labels.pdf", mime="application/pdf", icon=":material/qr_code_2:")

with tabs[1]:
    school_label = school_names(ctx)
    st.caption(t("ict.dashboard.readiness_help"))
    rows = dashboard.class_readiness(ctx.store, ctx.clock, ctx.actor, school_id)
    st.dataframe(
        [{t("ict.col.school"): school_label.get(r["school_code"], r["school_code"]), t("ict.col.class"): class_label(t, r["grade"], r["class_name"]),
          t("ict.col.pupils"): r["pupils"], t("ict.col.ready"): r["ready"],
          t("ict.col.ready_share"): t.percent(r["ready"] / r["pupils"]) if r["pupils"] else "—",
          t("ict.col.not_seen"): r["not_seen"]} for r in rows],
        hide_index=True)
    # One class: its pupils (pseudonyms) and the tablet each holds today.
    if rows:
        labels_by_room = {r["classroom_id"]: f"{school_label.get(r['school_code'], r['school_code'])} {class_label(t, r['grade'], r['class_name'])}"
                          for r in rows}
        room = st.selectbox(t("ict.usage.class_pupils"), list(labels_by_room), format_func=labels_by_room.get,
                            key="ict_class_pupils")
        st.dataframe(
            [{t("ict.col.pupil"): p["pseudonym"], t("ict.col.asset_tag"): p["asset_tag"] or t("ict.usage.no_tablet"),
              t("ict.col.status"): t(f"ict.status.{p['status']}") if p["status"] else ""}
             for p in registry.list_pupils(ctx.store, ctx.actor, room)],
            hide_index=True)

with tabs[2]:
    st.caption(t("ict.dashboard.open_device_help"))
    # Past end of support first: such a device gets no security updates any more.
    st.subheader(t("ict.dashboard.past_support"), anchor=False)
    unsupported = dashboard.past_support_end(ctx.store, ctx.clock, ctx.actor, school_id)
    if unsupported:
        st.warning(t("ict.dashboard.past_support_help", count=t.number(len(unsupported))),
                   icon=":material/update_disabled:")
        shown = unsupported[:SHOWN_DEVICES]
        if len(shown) < len(unsupported):
            st.caption(t("ict.dashboard.shown", shown=t.number(len(shown)), count=t.number(len(unsupported))))
        names = school_names(ctx)
        device_list(ctx, [
            {t("ict.col.asset_tag"): r["asset_tag"], t("ict.col.kind"): t(f"ict.kind.{r['kind']}"),
             t("ict.col.model"): r["model"], t("ict.col.support_end"): t.date(r["support_end"]),
             t("ict.col.status"): t(f"ict.status.{r['status']}"),
             t("ict.col.class"): class_label(t, r["grade"], r["class_name"]),
             t("ict.col.school"): names.get(r["school_code"], r["school_code"])} for r in shown],
            [r["asset_tag"] for r in shown], key="ict_past_support_table")
    else:
        st.success(t("ict.dashboard.past_support_none"))
    st.subheader(t("ict.dashboard.broken"), anchor=False)
    broken = (registry.list_devices(ctx.store, ctx.actor, school_id=school_id, status="in_repair")
              + registry.list_devices(ctx.store, ctx.actor, school_id=school_id, status="lost"))
    device_list(ctx, device_table(ctx, broken), [d.asset_tag for d in broken], key="ict_broken_table")
    st.subheader(t("ict.dashboard.not_seen"), anchor=False)
    quiet = dashboard.not_seen_devices(ctx.store, ctx.clock, ctx.actor, school_id)
    device_list(ctx, [
        {t("ict.col.asset_tag"): r["asset_tag"], t("ict.col.kind"): t(f"ict.kind.{r['kind']}"),
         t("ict.col.pupil"): r["pupil"] or "", t("ict.col.class"): class_label(t, r["grade"], r["class_name"]),
         t("ict.col.last_seen"): t.datetime(r["last_seen_at"], "short") if r["last_seen_at"] else "—"}
        for r in quiet], [r["asset_tag"] for r in quiet], key="ict_not_seen_table")

with tabs[3]:
    st.caption(t("ict.usage.help"))
    weekly = usage.usage_by_grade_week(ctx.store, ctx.actor, school_id)
    if weekly:
        frame = pl.DataFrame([{t("ict.usage.week"): w["week"], t("ict.usage.grade"): w["grade"],
                               t("ict.usage.minutes"): w["minutes_per_day"]} for w in weekly])
        show_chart(ctx, alt.Chart(frame).mark_line(point=True).encode(
            x=alt.X(f"{t('ict.usage.week')}:T"), y=f"{t('ict.usage.minutes')}:Q",
            color=alt.Color(f"{t('ict.usage.grade')}:O")))
    else:
        st.info(t("ict.usage.no_data"))

if len(tabs) > 4:
    with tabs[4]:
        st.dataframe(
            [{t("ict.col.school"): f"{r['code']} {r['name_ja'] if ctx.lang == 'ja' else r['name_en']}",
              t("ict.col.pupils"): r["pupils"], t("ict.col.devices"): r["devices"],
              **{t(f"ict.status.{s}"): r[s] for s in registry.STATUSES}}
             for r in dashboard.schools_overview(ctx.store, ctx.actor)],
            hide_index=True)

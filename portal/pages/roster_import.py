"""Administration — school roster (名簿): the board of education uploads a OneRoster 1.2 CSV
bundle (zip), sees every bad row or a preview of who joins, moves and leaves, then imports it."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import action, flash, page_context, show_error, show_flashes
from portal.services import roster

ctx = page_context("city_admin")
t = ctx.t

st.title(t("roster.title"))
st.caption(t("roster.intro"))
show_flashes()
upload = st.file_uploader(t("roster.upload"), type=["zip"], key="roster_zip")
if upload is None:
    st.stop()
bundle = upload.getvalue()
with action(ctx, rerun=False, stop=True):
    checked = roster.import_bundle(ctx.store, ctx.clock, ctx.actor, bundle, dry_run=True)
if not checked.ok:
    st.error(t("roster.rejected", count=len(checked.errors)), icon=":material/error:")
    st.dataframe([{t("roster.file"): p["file"], t("ui.row"): p["line"], t("ui.reason"): p["reason"]}
                  for p in roster.problems_as_json(t, checked.errors)], hide_index=True, width="stretch")
    st.stop()

st.success(t("roster.checked", **checked.counts), icon=":material/task_alt:")
preview = checked.preview
columns = st.columns(5)
for column, key, items in zip(columns, ("m_new", "m_moved", "m_leaving", "m_new_teachers", "m_leaving_teachers"),
                              (preview.new_pupils, preview.moved_pupils, preview.leaving_pupils,
                               preview.new_teachers, preview.leaving_teachers), strict=True):
    column.metric(t(f"roster.{key}"), len(items))
headers = {"id": "sourcedId", "name": t("roster.name"), "login": t("account.login"), "from": t("roster.from"),
           "to": t("roster.to")}
for key, items in (("preview_new", preview.new_pupils), ("preview_moved", preview.moved_pupils),
                   ("preview_leaving", preview.leaving_pupils), ("preview_new_teachers", preview.new_teachers),
                   ("preview_leaving_teachers", preview.leaving_teachers)):
    if items:
        with st.expander(t(f"roster.{key}", count=len(items))):
            st.dataframe([{headers[k]: v for k, v in item.items()} for item in items], hide_index=True,
                         width="stretch")
if not preview.changed:
    st.info(t("roster.unchanged"))
    st.stop()
if st.button(t("roster.import"), type="primary", key="roster_import"):
    try:
        done = roster.import_bundle(ctx.store, ctx.clock, ctx.actor, bundle)
    except ManabiError as exc:
        show_error(ctx, exc)
    else:
        if done.ok:
            flash(t("roster.imported", **done.counts))
            st.rerun()
        st.error(t("roster.rejected", count=len(done.errors)))

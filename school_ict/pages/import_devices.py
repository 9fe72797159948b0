"""Upload an MDM export (Google Admin's ChromeOS device list, or a generic CSV): check it,
then store it. All or nothing; every bad row is listed with its line and reason."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import action, page_context, show_error
from school_ict.services import importer, usage

ctx = page_context("school_admin", "city_admin")
t = ctx.t
st.title(t("ict.import.title"))
st.caption(t("ict.import.help"))

formats = {"google-admin": t("ict.import.format_google"), "generic": t("ict.import.format_generic")}
with st.form("ict_import"):
    upload = st.file_uploader(t("ict.import.file"), type=["csv"])
    fmt = st.radio(t("ict.import.format"), list(formats), format_func=formats.get, horizontal=True)
    dry_run = st.checkbox(t("ict.import.dry_run"), value=True)
    submitted = st.form_submit_button(t("ict.import.run"), type="primary")

if submitted and upload is not None:
    bar = st.progress(0.0)

    def progress(step: str, fraction: float) -> None:
        bar.progress(fraction, text=t(f"ict.import.step_{step}"))

    try:
        result = importer.import_devices(ctx.store, ctx.clock, ctx.actor, upload.getvalue(), fmt, dry_run=dry_run,
                                         progress=progress)
    except ManabiError as exc:
        bar.empty()
        show_error(ctx, exc)
    else:
        key = "ict.import.checked" if dry_run else "ict.import.stored"
        st.success(t(key, rows=t.number(result.rows), created=t.number(result.created),
                     updated=t.number(result.updated)))

# Telemetry: daily active minutes per device (asset_tag or serial, date, active_minutes).
st.subheader(t("ict.usage.upload_title"), anchor=False)
with st.form("ict_usage_import"):
    usage_file = st.file_uploader(t("ict.usage.upload"), type=["csv"], key="ict_usage_file")
    if st.form_submit_button(t("ict.import.run")) and usage_file is not None:
        with action(ctx, rerun=False) as outcome:
            count = usage.import_usage(ctx.store, ctx.actor, usage_file.getvalue())
            outcome.done(t("ict.usage.imported", rows=t.number(count)))

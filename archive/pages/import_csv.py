"""Bulk import (curators): a CSV and its images; all rows or none, bad rows named by line."""

from pathlib import Path

import streamlit as st

from archive.services import importer
from kernel.errors import ManabiError
from kernel.ui import page_context, show_error

ctx = page_context("curator")
t = ctx.t
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "archive_import_sample.csv"

st.title(t("archive.import.title"))
st.markdown(t("archive.import.intro", columns=", ".join(importer.COLUMNS)))
st.download_button(t("archive.import.sample"), SAMPLE.read_bytes(), file_name="archive_import_sample.csv",
                   mime="text/csv", icon=":material/download:")

with st.form("archive_import"):
    csv_file = st.file_uploader(t("archive.import.csv"), type=["csv"])
    image_files = st.file_uploader(t("archive.import.images"), type=["jpg", "jpeg", "png", "tif", "tiff", "webp"],
                                   accept_multiple_files=True)
    go = st.form_submit_button(t("archive.import.run"), type="primary")

if go:
    if csv_file is None:
        st.warning(t("archive.import.choose_file"))
        st.stop()
    uploaded = {f.name: f.getvalue() for f in image_files or []}
    bar = st.progress(0.0, text=t("archive.import.checking"))

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=t("archive.import.progress", done=done, total=total))

    try:
        result = importer.import_csv(ctx.store, ctx.clock, ctx.actor, csv_file.getvalue(),
                                     read_image=uploaded.get, progress=progress)
    except ManabiError as exc:
        bar.empty()
        show_error(ctx, exc)
    else:
        bar.progress(1.0, text=t("archive.import.done", rows=result.rows))
        st.success(t("archive.import.done", rows=result.rows))

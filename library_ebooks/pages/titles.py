"""E-book titles (librarians): import EPUBs, add licenses, see the catalogue."""

from datetime import datetime, time

import streamlit as st

from kernel.clock import TOKYO
from kernel.errors import ManabiError
from kernel.ui import page_context, show_error
from library_ebooks.pages._shared import availability_text
from library_ebooks.services import catalogue

ctx = page_context("librarian", "city_admin")
t = ctx.t
st.title(t("titles.title"))
import_tab, license_tab, catalogue_tab = st.tabs([t("titles.upload"), t("titles.licenses"), t("titles.catalogue")])

with import_tab:
    uploads = st.file_uploader(t("titles.upload"), type=["epub"], accept_multiple_files=True,
                               help=t("titles.upload_help"), key="ebooks_uploads")
    st.caption(t("titles.upload_help"))
    if st.button(t("titles.import"), type="primary", disabled=not uploads, key="ebooks_import"):
        bar = st.progress(0.0)
        results = []
        for done, upload in enumerate(uploads, start=1):
            results.append(catalogue.import_epub(ctx.store, ctx.clock, ctx.actor, upload.getvalue(), upload.name))
            bar.progress(done / len(uploads), text=t("ingest.progress", done=done, total=len(uploads), file=upload.name))
        counts = {s: sum(1 for r in results if r.status == s) for s in ("imported", "duplicate", "rejected")}
        (st.warning if counts["rejected"] else st.success)(t("ingest.summary", **counts))
        st.dataframe([{t("titles.file"): r.file, t("titles.status"): t(f"ingest.{r.status}"),
                       t("ebooks.title"): r.title or "—",
                       t("titles.reason"): t(r.reason_key, **r.reason_params) if r.reason_key else ""}
                      for r in results], hide_index=True)

cards = catalogue.list_titles(ctx.store, ctx.clock)
by_id = {card.id: card for card in cards}

with license_tab:
    if not cards:
        st.info(t("ui.none"))
    else:
        title_id = st.selectbox(t("titles.choose_title"), list(by_id), key="ebooks_license_title",
                                format_func=lambda i: f"{by_id[i].title} — {by_id[i].creator_names} (ID {i})")
        licenses = catalogue.licenses_of(ctx.store, ctx.clock, ctx.actor, title_id)
        if licenses:
            st.dataframe([{
                t("ebooks.id"): lic.id, t("titles.model"): t(f"model.{lic.model}"),
                t("titles.copies"): lic.copies if lic.copies is not None else "∞",
                t("titles.max_loans"): lic.max_loans if lic.max_loans is not None else t("titles.no_limit"),
                t("titles.expires"): t.date(lic.expires_at) if lic.expires_at else t("titles.no_limit"),
                t("titles.loan_days"): lic.loan_days, t("titles.loans_used"): lic.loans_used,
                t("titles.on_loan"): lic.on_loan, t("titles.usable"): "✓" if lic.usable else "—",
                t("titles.download_allowed"): "✓" if lic.download_allowed else "—",
            } for lic in licenses], hide_index=True)
        st.markdown(availability_text(t, by_id[title_id]))
        with st.form("ebooks_add_license", clear_on_submit=False):
            model = st.radio(t("titles.model"), catalogue.MODELS, format_func=lambda m: t(f"model.{m}"),
                             horizontal=True)
            copies_col, loans_col, days_col = st.columns(3)
            copies = copies_col.number_input(t("titles.copies"), min_value=1, value=1, step=1)
            max_loans = loans_col.number_input(t("titles.max_loans"), min_value=0, value=0, step=1,
                                               help=t("titles.no_limit") + " = 0")
            loan_days = days_col.number_input(t("titles.loan_days"), min_value=1, max_value=60,
                                              value=catalogue.DEFAULT_LOAN_DAYS)
            download_allowed = st.checkbox(t("titles.download_allowed"), value=True,
                                           help=t("titles.download_allowed_help"))
            set_expiry = st.checkbox(t("titles.set_expiry"))
            expiry = st.date_input(t("titles.expires"), value=None)
            if st.form_submit_button(t("titles.add_license"), type="primary"):
                expires_at = datetime.combine(expiry, time(23, 59), TOKYO) if set_expiry and expiry else None
                try:
                    catalogue.add_license(
                        ctx.store, ctx.clock, ctx.actor, title_id, model,
                        copies=None if model == "simultaneous" else int(copies),
                        max_loans=(int(max_loans) or None) if model == "metered" else None,
                        expires_at=expires_at if model == "metered" else None, loan_days=int(loan_days),
                        download_allowed=download_allowed)
                except ManabiError as exc:
                    show_error(ctx, exc)
                else:
                    st.success(t("titles.license_added"))
                    st.rerun()

with catalogue_tab:
    st.caption(t("titles.count", count=t.number(len(cards))))
    st.dataframe([{t("ebooks.id"): c.id, t("ebooks.title"): c.title, t("ebooks.creators"): c.creator_names,
                   t("ebooks.language"): c.language, t("ebooks.isbn"): c.isbn or "",
                   t("ebooks.availability"): availability_text(t, c)} for c in cards], hide_index=True)

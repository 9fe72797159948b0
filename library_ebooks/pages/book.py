"""One book (public): cover, creators with their readings, description, subjects,
availability and the queue, borrow or hold, and other books by the same creators.
Opened from the catalogue as /library-book?id=N."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import action, flash, page_context
from library_ebooks.pages._shared import (
    BOOK_PAGE,
    CATALOGUE_PAGE,
    READER_LOAN_KEY,
    READER_PAGE,
    availability_text,
    language_name,
    md,
)
from library_ebooks.services import catalogue, lending

ctx = page_context()
t = ctx.t

try:
    card = catalogue.get_title(ctx.store, ctx.clock, int(st.query_params.get("id", "")))
except (ValueError, ManabiError):
    st.title(t("nav.ebooks_book"))
    st.info(t("book.not_found"))
    st.page_link(CATALOGUE_PAGE, label=t("book.back"), icon=":material/search:")
    st.stop()

st.page_link(CATALOGUE_PAGE, label=t("book.back"), icon=":material/arrow_back:")
st.title(md(card.title))
has_kana = card.title_reading and any("\u3041" <= ch <= "\u30ff" for ch in card.title_reading)
if has_kana and card.title_reading != card.title:
    st.caption(md(card.title_reading))

cover_col, text_col = st.columns([1, 3])
cover_col.image(catalogue.cover_or_generated(ctx.store, card.id), width=200,
                alt=t("catalogue.cover_alt", title=card.title))


def creator_line(creator: dict) -> str:
    role = creator.get("role")
    role_text = t(f"book.role_{role}") if role in ("aut", "ill", "trl", "edt") else ""
    reading = creator.get("file_as")
    reading_text = f"（{md(reading)}）" if reading and reading != creator["name"] else ""
    return f"{md(creator['name'])}{reading_text}" + (f" — {role_text}" if role_text else "")


with text_col:
    if card.creators:
        st.markdown(f"**{t('book.creators')}**  \n" + "  \n".join(creator_line(c) for c in card.creators))
    if card.description:
        st.markdown(f"**{t('book.description')}**  \n{md(card.description)}")
    if card.subjects:
        st.markdown(f"**{t('ebooks.subjects')}**  \n" + " · ".join(md(s) for s in card.subjects))
    facts = [language_name(t, card.language), t(f"ebooks.{card.writing}"),
             t("book.layout_fixed") if card.layout == "pre-paginated" else t("book.layout_reflowable")]
    if card.publisher:
        facts.append(f"{t('book.publisher')}: {md(card.publisher)}")
    if card.published:
        facts.append(f"{t('book.published')}: {md(card.published)}")
    if card.isbn:
        facts.append(f"ISBN {card.isbn}")
    st.caption(" · ".join(facts))

with st.container(border=True):
    st.markdown(f"**{t('book.availability')}**: {availability_text(t, card)}")
    waiting = card.holds_waiting + card.offers
    if card.licensed and not card.unlimited and waiting:
        st.caption(t("book.queue", count=waiting))
    if card.licensed:
        st.caption(t("book.download_allowed") if card.downloadable else t("book.browser_only"))
    if ctx.actor.has("resident"):
        loans = {loan.title_id: loan for loan in lending.my_loans(ctx.store, ctx.clock, ctx.actor)}
        offered = {h.title_id for h in lending.my_holds(ctx.store, ctx.clock, ctx.actor) if h.status == "offered"}
        if card.id in loans:
            st.success(t("catalogue.yours"), icon=":material/menu_book:")
            if st.button(t("book.read_now"), key="book_read", type="primary"):
                st.session_state[READER_LOAN_KEY] = loans[card.id].id
                st.switch_page(READER_PAGE)
        elif card.licensed:
            with action(ctx, rerun=False):
                if (card.available or card.id in offered) and st.button(t("catalogue.borrow"), key="book_borrow",
                                                                         type="primary"):
                    loan = lending.borrow(ctx.store, ctx.clock, ctx.actor, card.id)
                    flash(t("catalogue.borrowed", title=card.title, due=t.datetime(loan.due_at, "short")))
                    st.rerun()
                if not (card.available or card.id in offered) and st.button(t("catalogue.hold"), key="book_hold"):
                    lending.place_hold(ctx.store, ctx.clock, ctx.actor, card.id)
                    flash(t("catalogue.held", title=card.title))
                    st.rerun()
    elif not ctx.actor.signed_in and card.licensed:
        st.caption(t("catalogue.sign_in_to_borrow"))

others = catalogue.other_books_by(ctx.store, ctx.clock, card)
if others:
    st.subheader(t("book.others_by", creator=" / ".join(c["name"] for c in card.creators)))
    columns = st.columns(6)
    for column, other in zip(columns, others, strict=False):
        column.image(catalogue.cover_or_generated(ctx.store, other.id), width=110,
                     alt=t("catalogue.cover_alt", title=other.title))
        column.page_link(BOOK_PAGE, label=other.title, query_params={"id": other.id})

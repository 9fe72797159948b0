"""Read a borrowed book in the browser: chapters, contents, reading settings, vertical writing.

The chapter HTML comes sanitised from the reader service (nh3); this page only wraps it
in the reader's own CSS. The position is saved on every move, per loan, and the reading
settings per resident, on the server: another device opens at the same place and look.
Fixed-layout books (picture books, manga) open in the reading app (routes.py), embedded
here; every book can also be opened there full screen, where read-aloud lives."""

from html import escape

import streamlit as st

from kernel.ui import action, page_context
from library_ebooks.pages._shared import READER_LOAN_KEY
from library_ebooks.services import lending, reader

FONT_SIZES = (80, 100, 120, 150, 180, 220)
LINE_HEIGHTS = (140, 180, 220, 260)
THEMES = {"light": ("#ffffff", "#1b1b1b"), "sepia": ("#f4ecd8", "#3b2f1e"), "dark": ("#121212", "#e8e8e8")}

ctx = page_context("resident")
t = ctx.t
st.title(t("reader.title"))

loans = lending.my_loans(ctx.store, ctx.clock, ctx.actor)
if not loans:
    st.info(t("reader.no_loans"))
    st.stop()
by_id = {loan.id: loan for loan in loans}
wanted = st.session_state.get(READER_LOAN_KEY)
loan_id = st.selectbox(t("reader.choose"), list(by_id), index=list(by_id).index(wanted) if wanted in by_id else 0,
                       format_func=lambda i: by_id[i].title)
st.session_state[READER_LOAN_KEY] = loan_id

with action(ctx, rerun=False, stop=True):
    book = reader.open_book(ctx.store, ctx.clock, ctx.actor, loan_id)
    token_key = f"ebooks_reader_token_{loan_id}"
    if token_key not in st.session_state:
        st.session_state[token_key] = reader.reader_token(ctx.store, ctx.clock, ctx.actor, loan_id)
app_url = f"/ebooks/read/{st.session_state[token_key]}?lang={t.lang}"

if book.layout == "pre-paginated":
    st.caption(t("reader.due", due=t.datetime(by_id[loan_id].due_at, "short")))
    st.link_button(t("reader.open_app"), app_url, icon=":material/fullscreen:")
    st.iframe(app_url, height=720)
    st.stop()

settings = reader.reading_settings(ctx.store, ctx.actor)
size_col, spacing_col, theme_col, ruby_col = st.columns(4)
font_size = size_col.selectbox(t("reader.font_size"), FONT_SIZES, index=FONT_SIZES.index(settings.font_size)
                               if settings.font_size in FONT_SIZES else 1, format_func=lambda s: f"{s}%")
line_height = spacing_col.selectbox(t("reader.line_height"), LINE_HEIGHTS, format_func=lambda s: f"{s}%",
                                    index=LINE_HEIGHTS.index(settings.line_height)
                                    if settings.line_height in LINE_HEIGHTS else 1)
theme = theme_col.selectbox(t("reader.theme"), list(THEMES), index=list(THEMES).index(settings.theme),
                            format_func=lambda k: t(f"reader.theme_{k}"))
ruby = ruby_col.toggle(t("reader.ruby"), value=settings.ruby)
chosen = reader.ReadingSettings(font_size, line_height, theme, ruby)
if chosen != settings:
    reader.save_settings(ctx.store, ctx.actor, chosen)
st.link_button(t("reader.open_app_aloud"), app_url, icon=":material/record_voice_over:")

position_key = f"ebooks_position_{loan_id}"
if position_key not in st.session_state:
    st.session_state[position_key] = book.position


def go_to(index: int) -> None:
    index = max(0, min(index, book.chapters - 1))
    st.session_state[position_key] = index
    reader.save_position(ctx.store, ctx.clock, ctx.actor, loan_id, index)


position = st.session_state[position_key]
st.caption(t("reader.due", due=t.datetime(by_id[loan_id].due_at, "short")))
if book.toc:
    labels = {index: ("\u3000" * (level - 1)) + label for label, index, level in reversed(book.toc)}
    toc_key = f"ebooks_toc_{loan_id}"

    def jump() -> None:
        if st.session_state[toc_key] is not None:
            go_to(st.session_state[toc_key])
            st.session_state[toc_key] = None  # the list is a menu, not a setting

    st.selectbox(t("reader.toc"), sorted(labels), index=None, format_func=labels.get,
                 placeholder=t("reader.toc"), key=toc_key, on_change=jump)


def controls(where: str) -> None:
    # For right-to-left books "next" sits on the left, as the pages turn that way.
    rtl = book.writing in ("vertical", "rtl")
    left, middle, right = st.columns([1, 2, 1])
    previous_col, next_col = (right, left) if rtl else (left, right)
    previous_col.button(t("reader.previous"), key=f"previous_{where}", disabled=position == 0,
                        on_click=go_to, args=(position - 1,), width="stretch")
    next_col.button(t("reader.next"), key=f"next_{where}", disabled=position >= book.chapters - 1,
                    on_click=go_to, args=(position + 1,), width="stretch", type="primary")
    middle.markdown(f"<div style='text-align:center'>{t('reader.chapter_of', index=position + 1, count=book.chapters)}"
                    "</div>", unsafe_allow_html=True)


controls("top")
with action(ctx, rerun=False, stop=True):
    body = reader.chapter(ctx.store, ctx.clock, ctx.actor, loan_id, position)

layout = {
    "vertical": "writing-mode: vertical-rl; width: 100%; box-sizing: border-box; height: 65vh; overflow-x: auto; overflow-y: hidden;",
    "rtl": "direction: rtl; text-align: right;",
    "horizontal": "",
}[book.writing]
ground, ink = THEMES[theme]
hide_ruby = "" if ruby else ".manabi-reader rt, .manabi-reader rp { display: none; } "
st.html(
    "<style>.manabi-reader img { max-width: 100%; max-height: 65vh; } "
    f".manabi-reader rt {{ font-size: 0.5em; }} {hide_ruby}.manabi-reader h1, .manabi-reader h2 {{ font-size: 1.3em; }}</style>"
    f"<div class='manabi-reader manabi-{book.writing}' lang='{escape(book.language, quote=True)}' "
    f"style='{layout} font-size: {font_size}%; line-height: {line_height / 100}; background: {ground}; color: {ink}; "
    f"padding: 1rem; border: 1px solid rgba(128,128,128,.3); "
    f"border-radius: .5rem; font-family: \"Noto Serif CJK JP\", \"Noto Serif JP\", serif;'>{body}</div>"
)
controls("bottom")

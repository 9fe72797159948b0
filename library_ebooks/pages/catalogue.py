"""Find e-books (public): Japanese-aware search with filters; residents borrow or hold.
Before a search, shelves: new arrivals, children's books and the commonest subjects."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import flash, page_context, show_error
from library_ebooks.pages._shared import BOOK_PAGE, availability_text, language_name, md
from library_ebooks.services import catalogue, lending

PER_PAGE = 10

ctx = page_context()
t = ctx.t
st.title(t("catalogue.title"))
st.caption(t("catalogue.intro"))

query_col, language_col, subject_col = st.columns([3, 1, 1])
query = query_col.text_input(t("catalogue.query"), placeholder=t("catalogue.query_help"), key="ebooks_query")
language = language_col.selectbox(
    t("ebooks.language"), [None, *catalogue.languages(ctx.store)],
    format_func=lambda code: t("catalogue.any_language") if code is None else language_name(t, code))
subject = subject_col.selectbox(
    t("ebooks.subjects"), [None, *catalogue.subjects(ctx.store)],
    format_func=lambda s: t("catalogue.any_subject") if s is None else s)
available_only = st.checkbox(t("catalogue.available_only"))
# A new search or filter starts again from page 1.
search_key = (query, language, subject, available_only)
if st.session_state.get("ebooks_search_key") != search_key:
    st.session_state["ebooks_search_key"] = search_key
    st.session_state["ebooks_page"] = 1
page_number = st.session_state.get("ebooks_page", 1)


def shelf(heading: str, cards) -> None:
    if not cards:
        return
    st.subheader(heading)
    for column, card in zip(st.columns(6), cards, strict=False):
        column.image(catalogue.cover_or_generated(ctx.store, card.id), width=110,
                     alt=t("catalogue.cover_alt", title=card.title))
        column.page_link(BOOK_PAGE, label=card.title, query_params={"id": card.id})


if not query.strip() and not subject and not language and not available_only and page_number == 1:
    shelf(t("catalogue.new_arrivals"), catalogue.new_arrivals(ctx.store, ctx.clock))
    shelf(t("catalogue.children"), catalogue.subject_shelf(ctx.store, ctx.clock, catalogue.CHILDREN_SUBJECTS))
    for shelf_subject in catalogue.popular_subjects(ctx.store, 2):
        shelf(t("catalogue.shelf_of", subject=shelf_subject),
              catalogue.subject_shelf(ctx.store, ctx.clock, [shelf_subject]))
    st.divider()

result = catalogue.search(ctx.store, ctx.clock, query, language=language, subject=subject,
                          available_only=available_only, limit=PER_PAGE, offset=(page_number - 1) * PER_PAGE)
if not result.cards:
    st.info(t("catalogue.nothing"))
st.caption(t("catalogue.found", count=t.number(result.total)))

may_borrow = ctx.actor.has("resident")
# A copy kept for this resident (their hold's offer) is theirs to borrow though others see it out.
offered_to_me = ({h.title_id for h in lending.my_holds(ctx.store, ctx.clock, ctx.actor) if h.status == "offered"}
                 if may_borrow else set())
on_loan_to_me = {loan.title_id for loan in lending.my_loans(ctx.store, ctx.clock, ctx.actor)} if may_borrow else set()


def act(action, title_id: int, title: str) -> None:
    try:
        if action == "borrow":
            loan = lending.borrow(ctx.store, ctx.clock, ctx.actor, title_id)
            flash(t("catalogue.borrowed", title=title, due=t.datetime(loan.due_at, "short")))
        else:
            lending.place_hold(ctx.store, ctx.clock, ctx.actor, title_id)
            flash(t("catalogue.held", title=title))
    except ManabiError as exc:
        st.session_state["ebooks_catalogue_error"] = exc


if "ebooks_catalogue_error" in st.session_state:
    show_error(ctx, st.session_state.pop("ebooks_catalogue_error"))

for card in result.cards:
    with st.container(border=True):
        cover_col, text_col, action_col = st.columns([1, 5, 2])
        cover = catalogue.cover_or_generated(ctx.store, card.id)
        if cover:
            cover_col.image(cover, width=90, alt=t("catalogue.cover_alt", title=card.title))
        # Show a kana reading (くさまくら); a Latin file-as ("Moby-Dick, The") adds nothing.
        has_kana = card.title_reading and any("\u3041" <= ch <= "\u30ff" for ch in card.title_reading)
        reading = f"（{md(card.title_reading)}）" if has_kana and card.title_reading != card.title else ""
        text_col.markdown(f"**{md(card.title)}** {reading}")
        text_col.page_link(BOOK_PAGE, label=t("catalogue.details"), query_params={"id": card.id},
                           icon=":material/info:")
        text_col.caption(" · ".join(md(part) for part in (
            card.creator_names, language_name(t, card.language), t(f"ebooks.{card.writing}"),
            " / ".join(card.subjects), card.publisher or "", f"ISBN {card.isbn}" if card.isbn else "") if part))
        if card.description:
            text_col.markdown(md(card.description[:280] + ("…" if len(card.description) > 280 else "")))
        action_col.markdown(availability_text(t, card))
        if card.id in on_loan_to_me:
            action_col.success(t("catalogue.yours"), icon=":material/menu_book:")
        elif may_borrow and card.licensed:
            if card.available or card.id in offered_to_me:
                action_col.button(t("catalogue.borrow"), key=f"borrow_{card.id}", type="primary",
                                  on_click=act, args=("borrow", card.id, card.title))
            else:
                action_col.button(t("catalogue.hold"), key=f"hold_{card.id}", on_click=act,
                                  args=("hold", card.id, card.title))
        elif not ctx.actor.signed_in and card.licensed:
            action_col.caption(t("catalogue.sign_in_to_borrow"))

pages = max(1, -(-result.total // PER_PAGE))


def go_to_page(number: int) -> None:
    st.session_state["ebooks_page"] = number


if pages > 1:
    # Paging by pages: previous, the numbers around this one, next.
    numbers = [n for n in range(1, pages + 1) if n in (1, pages) or abs(n - page_number) <= 2]
    columns = st.columns(len(numbers) + 2)
    columns[0].button(t("catalogue.previous_page"), key="ebooks_page_previous", disabled=page_number <= 1,
                      on_click=go_to_page, args=(page_number - 1,))
    for column, number in zip(columns[1:-1], numbers, strict=True):
        column.button(str(number), key=f"ebooks_page_{number}", on_click=go_to_page, args=(number,),
                      type="primary" if number == page_number else "secondary",
                      help=t("catalogue.page_of", page=number, pages=pages))
    columns[-1].button(t("catalogue.next_page"), key="ebooks_page_next", disabled=page_number >= pages,
                       on_click=go_to_page, args=(page_number + 1,))
    st.caption(t("catalogue.page_of", page=page_number, pages=pages))

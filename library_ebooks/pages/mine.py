"""My loans and holds (residents): read, return, renew; take an offer, cancel a hold."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import flash, page_context, show_error
from library_ebooks.pages._shared import READER_LOAN_KEY, READER_PAGE, md
from library_ebooks.services import lending

ctx = page_context("resident")
t = ctx.t
st.title(t("mine.title"))

_ERROR = "ebooks_mine_error"


def run(action, *args) -> None:
    """Button callbacks: do the action, keep the message for the next run."""
    try:
        if action == "return":
            lending.return_loan(ctx.store, ctx.clock, ctx.actor, *args)
            flash(t("mine.returned"))
        elif action == "renew":
            due = lending.renew(ctx.store, ctx.clock, ctx.actor, *args)
            flash(t("mine.renewed", due=t.datetime(due, "short")))
        elif action == "cancel":
            lending.cancel_hold(ctx.store, ctx.clock, ctx.actor, *args)
            flash(t("mine.cancelled"))
        elif action == "borrow":
            lending.borrow(ctx.store, ctx.clock, ctx.actor, *args)
            flash(t("mine.borrowed"))
    except ManabiError as exc:
        st.session_state[_ERROR] = exc


if _ERROR in st.session_state:
    show_error(ctx, st.session_state.pop(_ERROR))

loans = lending.my_loans(ctx.store, ctx.clock, ctx.actor)
holds = lending.my_holds(ctx.store, ctx.clock, ctx.actor)
st.caption(t("mine.counts", loans=len(loans), loan_limit=lending.LOAN_LIMIT, holds=len(holds),
             hold_limit=lending.HOLD_LIMIT))

st.subheader(t("mine.loans"))
if not loans:
    st.info(t("mine.no_loans"))
for loan in loans:
    with st.container(border=True):
        text_col, read_col, renew_col, return_col = st.columns([4, 1, 1, 1])
        text_col.markdown(f"**{md(loan.title)}**  \n{md(loan.creators)}")
        text_col.caption(t("mine.due", due=t.datetime(loan.due_at, "short")))
        if read_col.button(t("mine.read"), key=f"read_{loan.id}", type="primary", icon=":material/menu_book:"):
            st.session_state[READER_LOAN_KEY] = loan.id
            st.switch_page(READER_PAGE)
        renew_col.button(t("mine.renew"), key=f"renew_{loan.id}", disabled=not loan.can_renew,
                         on_click=run, args=("renew", loan.id))
        return_col.button(t("mine.return"), key=f"return_{loan.id}", on_click=run, args=("return", loan.id))

st.subheader(t("mine.holds"))
if not holds:
    st.info(t("mine.no_holds"))
for hold in holds:
    with st.container(border=True):
        text_col, take_col, cancel_col = st.columns([4, 1, 1])
        text_col.markdown(f"**{md(hold.title)}**")
        if hold.status == "offered":
            text_col.success(t("mine.offered", until=t.datetime(hold.offer_expires_at, "short")))
            take_col.button(t("mine.take_offer"), key=f"take_{hold.id}", type="primary",
                            on_click=run, args=("borrow", hold.title_id))
        else:
            text_col.caption(t("mine.waiting", position=hold.queue_position))
        cancel_col.button(t("mine.cancel"), key=f"cancel_{hold.id}", on_click=run, args=("cancel", hold.id))

"""Find a free room (public): for N people, on these dates, in these blocks, with this equipment."""

from datetime import timedelta

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import booking, catalogue, vacancy
from kernel.errors import ManabiError
from kernel.ui import page_context, show_error

ctx = page_context()
t, lang = ctx.t, ctx.lang
st.title(t("nav.facilities_search"))
st.caption(t("search.intro"))
today = ctx.clock.now().date()
equipment = {e.code: e for e in catalogue.list_equipment(ctx.store)}

with st.form("facility_search"):
    left, right = st.columns(2)
    people = left.number_input(t("search.people"), min_value=1, max_value=500, value=10, step=1)
    period = right.date_input(t("search.dates"), value=(today + timedelta(days=7), today + timedelta(days=13)),
                              min_value=today, max_value=today + timedelta(days=120), format="YYYY-MM-DD")
    left, right = st.columns(2)
    # Seven short toggles wrap on a phone, where a multiselect's chips are cut off at the edge.
    weekdays = left.pills(t("search.weekdays"), list(range(1, 8)), selection_mode="multi",
                          default=list(range(1, 8)), format_func=lambda d: shared.weekday_name(t, d))
    blocks = right.multiselect(t("book.block"), ["am", "pm", "ev"], default=["am", "pm", "ev"],
                               format_func=lambda b: t(f"block.{b}"))
    wanted = st.multiselect(t("search.equipment"), list(equipment), format_func=lambda c: equipment[c].name(lang),
                            placeholder=t("search.any_equipment"))
    left, right = st.columns(2)
    kind = left.selectbox(t("search.kind"), [None, "hall", "centre", "sports"],
                          format_func=lambda k: t(f"kind.{k or 'any'}"))
    accessible = right.checkbox(t("search.accessible"))
    submitted = st.form_submit_button(t("search.submit"), type="primary", icon=":material/search:",
                                      key="search_submit")

if submitted:
    start, end = (period[0], period[-1]) if isinstance(period, tuple) and period else (today, today)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    days = [d for d in days if d.isoweekday() in weekdays]
    try:
        st.session_state["search_results"] = vacancy.search(
            ctx.store, ctx.clock, people=int(people), days=days, blocks=blocks, equipment=wanted,
            accessible=accessible, kind=kind)
    except ManabiError as exc:
        show_error(ctx, exc)
        st.session_state.pop("search_results", None)

results = st.session_state.get("search_results")
if results is not None:
    if not results:
        st.warning(t("search.nothing"))
    else:
        if len(results) >= vacancy.SEARCH_LIMIT:  # a cut list is a reason to narrow, not a success
            st.warning(t("search.found_many", count=len(results)), icon=":material/filter_alt:")
        else:
            st.success(t("search.found", count=len(results)))
        fees = booking.block_fees(ctx.store, ctx.actor, list({m.room.id for m in results}))
        rows = [{t("search.day"): shared.day_label(t, m.day),
                 t("book.block"): shared.block_label(t, m.facility, m.block_code),
                 t("vacancy.facility"): m.facility.name(lang), t("vacancy.room"): m.room.name(lang),
                 t("vacancy.capacity"): m.room.capacity,
                 t("search.fee"): t.money(fees[(m.room.id, m.block_code)]) if (m.room.id, m.block_code) in fees
                 else "—"} for m in results]
        st.caption(t("search.fee_note"))
        signed_in = ctx.actor.signed_in
        event = st.dataframe(rows, hide_index=True, width="stretch", key="search_table",
                             on_select="rerun" if signed_in else "ignore", selection_mode="single-row")
        picked = event.selection.rows if signed_in and event and event.selection else []
        if ctx.actor.signed_in:
            st.caption(t("search.pick_to_book"))
            if picked:
                match = results[picked[0]]
                if st.button(t("search.book_this", place=f"{match.facility.name(lang)} {match.room.name(lang)}",
                               day=t.date(match.day), block=t(f"block.{match.block_code}")),
                             type="primary", key="search_book"):
                    st.switch_page(shared.page_path("book.py"),
                                   query_params={"room": str(match.room.id), "day": match.day.isoformat(),
                                                 "block": match.block_code})
        else:
            st.info(t("vacancy.sign_in_to_book"), icon=":material/login:")

"""Facility vacancy (public): the facilities on a map, and one facility's month grid, where a
free slot (○) leads a signed-in visitor to the booking form with everything filled in."""

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import catalogue, vacancy
from kernel.ui import action, md_escape, page_context
from kernel.ui.maps import MapPoint, point_map

ctx = page_context()
t, lang = ctx.t, ctx.lang
st.title(t("nav.facilities_vacancy"))
st.caption(t("vacancy.intro"))

facilities = catalogue.list_facilities(ctx.store)
if not facilities:
    st.info(t("vacancy.no_facilities"))
    st.stop()

with st.expander(t("vacancy.map"), expanded=False, icon=":material/map:"):
    # A click on a facility shows its month below (the choice the selectbox keeps).
    clicked = point_map(ctx, [MapPoint(key=str(f.id), lat=f.lat, lon=f.lon, label=f.name(lang)) for f in facilities],
                        key="vacancy_map", height=420)
    if clicked and st.session_state.get("vacancy_map_shown") != clicked:
        st.session_state["vacancy_map_shown"] = clicked
        st.session_state.pop("vacancy_facility", None)  # the selectbox starts again from ?facility=
        st.query_params["facility"] = clicked
        st.rerun()

by_id = {f.id: f for f in facilities}
wanted = st.query_params.get("facility")
default = next((i for i, f in enumerate(facilities) if str(f.id) == wanted), 0)
left, right = st.columns([3, 1])
facility_id = left.selectbox(t("vacancy.facility"), [f.id for f in facilities], index=default,
                             format_func=lambda i: by_id[i].name(lang), key="vacancy_facility")
today = ctx.clock.now().date()
months = vacancy.months_shown(today)
month = right.selectbox(t("vacancy.month"), months, format_func=lambda m: shared.month_label(t, m),
                        index=1 if today.day > 20 else 0, key="vacancy_month")
facility = by_id[facility_id]

with action(ctx, rerun=False, stop=True):
    grid = vacancy.month_grid(ctx.store, ctx.clock, facility.id, month)

st.subheader(md_escape(facility.name(lang)), anchor=False)
st.caption(shared.facility_facts(t, facility))
st.markdown(shared.legend(t))
signed_in = ctx.actor.signed_in
st.html(shared.grid_html(t, grid.days, shared.facility_rows(t, grid),
                         lambda room, day, block: shared.book_href(t, room, day, block) if signed_in else None,
                         t("vacancy.grid_label", facility=facility.name(lang))))
st.caption(t("vacancy.free_count", count=grid.free_count()))
if signed_in:
    st.caption(t("vacancy.tap_to_book"))
else:
    st.info(t("vacancy.sign_in_to_book"), icon=":material/login:")

st.subheader(t("vacancy.rooms"), anchor=False)
equipment = {e.code: e for e in catalogue.list_equipment(ctx.store)}
st.dataframe(shared.rooms_frame(ctx, facility, equipment), hide_index=True, width="stretch")


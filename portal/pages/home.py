"""Home: what Manabi offers, by audience, and where to start."""

import streamlit as st

from kernel.ui import md_escape, page_context
from portal.ui.shell import NAV_PAGES

ctx = page_context()
t = ctx.t

st.title(t("home.title"))
st.markdown(t("home.lead"))
if ctx.actor.signed_in:
    st.success(t("home.welcome_back", name=md_escape(ctx.actor.display_name)), icon=":material/waving_hand:")
else:
    st.info(t("home.public_hint"), icon=":material/info:")

AUDIENCES = (
    ("schools", ":material/school:", ("4-1-1", "4-1-2", "4-1-3", "4-1-4")),
    ("library", ":material/menu_book:", ("4-2-5",)),
    ("facilities", ":material/event_available:", ("4-2-2", "4-2-3", "4-2-4")),
    ("archive", ":material/museum:", ("4-2-1",)),
)
visible_pages = st.session_state.get(NAV_PAGES, {})
# Two cards a row, so that page names in the cards have room.
columns = [column for _ in range(2) for column in st.columns(2)]
for column, (group, icon, measures) in zip(columns, AUDIENCES, strict=True):
    with column, st.container(border=True, height="stretch"):
        st.subheader(t(f"group.{group}"), anchor=False)
        st.caption(icon + " " + " · ".join(measures))
        st.write(t(f"home.{group}_text"))
        for page in visible_pages.get(group, []):
            st.page_link(page)
        if group == "schools" and not visible_pages.get(group):
            st.caption(t("home.schools_sign_in"))

st.divider()
st.caption(t("home.today", date=t.date(ctx.clock.now().date(), "full")))
st.caption(t("home.plan_note"))

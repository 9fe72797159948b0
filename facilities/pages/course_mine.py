"""My courses (signed in): my registrations, fees owed, and one-click "join online" for
online sessions — for people holding a seat, and for the lecturer as moderator. The join
button is a link to /courses/join/<session> (facilities/routes.py), which makes the
person's own token at the click and opens the room."""

from contextlib import suppress

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import courses, meetings, payments
from kernel.errors import ManabiError
from kernel.ui import md_escape, page_context

ctx = page_context()
t, lang, actor = ctx.t, ctx.lang, ctx.actor
actor.require()
now = ctx.clock.now()
st.title(t("courses.mine.title"))


def online_sessions(course, moderator: bool) -> None:
    for session in course.sessions:
        if not session.online or session.status != "planned" or session.ends_at <= now - meetings.CLOSE_AFTER:
            continue
        line = st.columns([3, 2])
        line[0].markdown(shared.session_line(t, session))
        if courses.can_join_now(session, now):
            label = "courses.mine.join_moderator" if moderator else "courses.mine.join"
            address = f"/courses/join/{session.id}" + ("?lang=en" if lang == "en" else "")
            line[1].link_button(t(label), address, type="primary", icon=":material/video_call:")
            _, closes = meetings.token_window(session.starts_at, session.ends_at)
            line[1].caption(t("courses.mine.join_hint", until=t.datetime(closes, "short")))
        else:
            opens, _ = meetings.token_window(session.starts_at, session.ends_at)
            line[1].caption(t("courses.mine.join_from", opens=t.datetime(opens, "short")))


demo_config = False
with suppress(ManabiError):  # not configured: the join button says so when pressed
    demo_config = courses.meeting_config(ctx.store).demo

teaching = [c for c in courses.lecturer_courses(ctx.store, actor) if c.lecturer_id == actor.user_id]
mine = courses.my_courses(ctx.store, actor)
if not mine and not teaching:
    st.info(t("courses.mine.none"))
    st.stop()
if demo_config and (teaching or any(c.has_online for c, _ in mine)):
    st.caption(t("courses.mine.demo_server"))

for course in teaching:
    with st.container(border=True, key=f"teach_{course.id}"):
        st.subheader(md_escape(course.title(lang)), anchor=False)
        st.caption(t("courses.list.lecturer_you"))
        # Sessions only in a room are listed; online ones get a row with their join button.
        st.markdown(shared.sessions_markdown(t, [s for s in course.sessions if not s.online]))
        online_sessions(course, moderator=True)

for course, reg in mine:
    with st.container(border=True, key=f"mine_{course.id}"):
        head, badge = st.columns([4, 1])
        head.subheader(md_escape(course.title(lang)), anchor=False)
        colour = {"registered": "green", "waitlisted": "orange", "cancelled": "gray"}[reg.status]
        badge.markdown(f":{colour}-badge[{t(shared.STATUS_KEYS[reg.status])}]")
        st.caption(t("courses.list.lecturer", name=course.lecturer_name))
        if reg.status == "waitlisted":
            st.info(t("courses.list.waitlist_position", position=reg.waitlist_position),
                    icon=":material/hourglass_top:")
        if reg.status == "registered" and reg.fee_yen:
            if reg.owed_yen:
                st.warning(t("courses.mine.owed", fee=t.money(reg.owed_yen)), icon=":material/payments:")
                left, right = st.columns([1, 2])
                left.image(payments.qr_png(reg), caption=reg.payment_ref, width=200, alt=t("payments.qr_alt"))
                right.markdown(t("courses.mine.how_to_pay", ref=reg.payment_ref, amount=t.money(reg.owed_yen)))
            else:
                st.caption(t("courses.mine.paid"))
        if reg.status == "registered":
            st.markdown(shared.sessions_markdown(t, [s for s in course.sessions if not s.online]))
            online_sessions(course, moderator=False)
        elif reg.status == "waitlisted":
            st.markdown(shared.sessions_markdown(t, course.sessions))
        if reg.status in ("registered", "waitlisted"):
            st.button(t("courses.list.cancel"), key=f"mine_cancel_{course.id}", on_click=shared.cancel_clicked,
                      args=(ctx, course.id))

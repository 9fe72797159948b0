"""Courses (public): upcoming courses with their sessions and seats; residents register here."""

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import courses
from kernel.errors import ManabiError
from kernel.ui import flash, md_escape, page_context

ctx = page_context()
t, lang, actor = ctx.t, ctx.lang, ctx.actor
now = ctx.clock.now()
st.title(t("courses.list.title"))
st.caption(t("courses.list.intro"))

found = courses.list_courses(ctx.store, ctx.clock)
if not found:
    st.info(t("courses.list.none"))
    st.stop()


def do_register(course_id: int) -> None:
    try:
        reg = courses.register(ctx.store, ctx.clock, actor, course_id)
    except ManabiError as exc:
        flash(t.error(exc), "error")
        return
    if reg.status == "registered":
        flash(t("courses.list.done_registered"))
    else:
        flash(t("courses.list.done_waitlisted", position=reg.waitlist_position), "info")


for course in found:
    state = course.registration_state(now)
    with st.container(border=True, key=f"course_{course.id}"):
        head, badge = st.columns([4, 1])
        head.subheader(md_escape(course.title(lang)), anchor=False)
        badge.markdown(shared.state_badge(t, state) + (f"  \n:blue-badge[{t('courses.list.online_badge')}]"
                                                   if course.has_online else ""))
        st.caption(t("courses.list.lecturer", name=md_escape(course.lecturer_name)))
        if course.description(lang):
            st.markdown(md_escape(course.description(lang)))
        facts = [t("courses.list.seats", capacity=course.capacity, left=course.seats_left),
                 t("courses.list.fee", fee=t.money(course.fee_yen)) if course.fee_yen else t("courses.list.free"),
                 t("courses.list.window", opens=t.datetime(course.registration_opens, "short"),
                   closes=t.datetime(course.registration_closes, "short"))]
        if course.waitlisted:
            facts.insert(1, t("courses.list.waitlisted", count=course.waitlisted))
        st.markdown(" · ".join(facts))
        if course.sessions:
            st.markdown(shared.sessions_markdown(t, course.sessions))

        if not actor.signed_in:
            st.caption(t("courses.list.sign_in_to_register"))
            continue
        if course.lecturer_id == actor.user_id:
            st.caption(t("courses.list.lecturer_you"))
            continue
        mine = courses.my_registration(ctx.store, actor, course.id)
        if mine is not None and mine.status == "registered":
            st.success(t("courses.list.registered") + " " + t("courses.list.my_courses_hint"),
                       icon=":material/check_circle:")
        elif mine is not None and mine.status == "waitlisted":
            st.info(t("courses.list.waitlist_position", position=mine.waitlist_position),
                    icon=":material/hourglass_top:")
        if mine is not None and mine.status in ("registered", "waitlisted"):
            st.button(t("courses.list.cancel"), key=f"cancel_{course.id}", on_click=shared.cancel_clicked,
                      args=(ctx, course.id))
        elif state == "open":
            if not actor.has("resident"):
                st.caption(t("courses.list.residents_only"))
            else:
                label = "courses.list.register" if course.seats_left > 0 else "courses.list.register_waitlist"
                st.button(t(label), key=f"register_{course.id}", type="primary", icon=":material/how_to_reg:",
                          on_click=do_register, args=(course.id,))

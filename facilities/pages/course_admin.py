"""Course setup (facility staff): create a course, then add its sessions — in a room (the
room is booked through facility booking), online (an unguessable Jitsi room), or both."""

from datetime import datetime, time, timedelta

import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import catalogue, courses
from kernel.clock import TOKYO
from kernel.ui import action, page_context

ctx = page_context(*courses.STAFF)
t, lang, actor = ctx.t, ctx.lang, ctx.actor
today = ctx.clock.now().date()
st.title(t("courses.admin.title"))
facilities = catalogue.list_facilities(ctx.store)
facility_by_id = {f.id: f for f in facilities}

with st.expander(t("courses.admin.new_course"), icon=":material/add:"), st.form("course_create"):
    a, b = st.columns(2)
    code = a.text_input(t("courses.admin.code"), help=t("courses.admin.code_help"))
    lecturer = b.text_input(t("courses.admin.lecturer_login"))
    title_ja = a.text_input(t("courses.admin.title_ja"))
    title_en = b.text_input(t("courses.admin.title_en"))
    description_ja = a.text_area(t("courses.admin.description_ja"), height=90)
    description_en = b.text_area(t("courses.admin.description_en"), height=90)
    c, d, e = st.columns(3)
    capacity = c.number_input(t("courses.admin.capacity"), min_value=1, value=12, step=1)
    fee = d.number_input(t("courses.admin.fee"), min_value=0, value=0, step=100)
    facility_id = e.selectbox(t("courses.admin.facility"), [None, *facility_by_id],
                              format_func=lambda i: t("courses.session.online_only") if i is None
                              else facility_by_id[i].name(lang))
    opens = c.date_input(t("courses.admin.opens"), value=today)
    closes = d.date_input(t("courses.admin.closes"), value=today + timedelta(days=14))
    if st.form_submit_button(t("courses.admin.create"), type="primary"):
        with action(ctx, rerun=False) as outcome:
            created = courses.create_course(
                ctx.store, ctx.clock, actor, code=code, title_ja=title_ja, title_en=title_en,
                lecturer_id=catalogue.user_id_for_login(ctx.store, lecturer.strip().lower()),
                capacity=int(capacity), fee_yen=int(fee), facility_id=facility_id,
                description_ja=description_ja, description_en=description_en,
                registration_opens=datetime.combine(opens, time(9), TOKYO),
                registration_closes=datetime.combine(closes, time(17), TOKYO))
            outcome.done(t("courses.admin.created", code=created.code))

all_courses = [c for c in courses.lecturer_courses(ctx.store, actor) if c.status == "published"]
if not all_courses:
    st.stop()
st.subheader(t("courses.admin.add_session"), anchor=False)
by_id = {c.id: c for c in all_courses}
course_id = st.selectbox(t("courses.lecturer.choose"), list(by_id), key="admin_course",
                         format_func=lambda i: f"{by_id[i].title(lang)} ({by_id[i].code})")
course = by_id[course_id]
if course.sessions:
    st.markdown(shared.sessions_markdown(t, course.sessions))

MODES = {"room": "courses.session.in_room", "online": "courses.session.online_only", "both": "courses.session.hybrid"}
mode = st.radio(t("courses.session.how"), list(MODES), format_func=lambda m: t(MODES[m]), horizontal=True,
                key="admin_mode")
with st.form("session_add"):
    room_id = block = start = None
    day = st.date_input(t("courses.classes.day"), value=today + timedelta(days=7), min_value=today)
    if mode in ("room", "both"):
        a, b, c = st.columns(3)
        default = facilities.index(facility_by_id[course.facility_id]) if course.facility_id in facility_by_id else 0
        facility = facilities[a.selectbox(t("courses.admin.facility"), range(len(facilities)), index=default,
                                          format_func=lambda i: facilities[i].name(lang))]
        room_id = b.selectbox(t("courses.session.place"), [r.id for r in facility.rooms],
                              format_func=lambda i: next(r.name(lang) for r in facility.rooms if r.id == i))
        block = c.selectbox(t("courses.admin.block"), [bl.code for bl in facility.blocks],
                            format_func=lambda code: shared.block_label(t, facility, code))
    else:
        a, b = st.columns(2)
        start = a.time_input(t("courses.classes.start"), value=time(14), step=timedelta(minutes=15))
        minutes = b.number_input(t("courses.classes.minutes"), min_value=15, max_value=480, value=120, step=15)
    if st.form_submit_button(t("courses.admin.add"), type="primary"):
        with action(ctx, rerun=False) as outcome:
            if mode == "online":
                starts_at = datetime.combine(day, start, TOKYO)
                session = courses.add_session(ctx.store, ctx.clock, actor, course.id, online=True,
                                              starts_at=starts_at,
                                              ends_at=starts_at + timedelta(minutes=int(minutes)))
            else:
                session = courses.add_session(ctx.store, ctx.clock, actor, course.id, room_id=room_id, day=day,
                                              block_code=block, online=mode == "both")
            outcome.done(t("courses.admin.session_added", when=shared.when(t, session)))

planned = [s for s in course.sessions if s.status == "planned"]
if planned:
    st.subheader(t("courses.admin.cancel_session"), anchor=False)
    with st.form("session_cancel"):
        which = st.selectbox(t("courses.admin.cancel_which"), [s.id for s in planned],
                             format_func=lambda i: shared.when(t, next(s for s in planned if s.id == i)))
        if st.form_submit_button(t("courses.admin.cancel_confirm")):
            with action(ctx, rerun=False) as outcome:
                gone = courses.cancel_session(ctx.store, ctx.clock, actor, which)
                outcome.done(t("courses.admin.session_cancelled_done", when=shared.when(t, gone)))

"""Running courses (signed in): the lecturer's participant list, waiting list and online
attendance; facility staff see every course and may change seats or record payments."""

import pandas as pd
import streamlit as st

from facilities.pages import _shared as shared
from facilities.services import courses
from kernel.csv_export import write_csv_bytes
from kernel.ui import action, md_escape, page_context

ctx = page_context()
t, lang, actor = ctx.t, ctx.lang, ctx.actor
actor.require()
st.title(t("courses.lecturer.title"))

mine = courses.lecturer_courses(ctx.store, actor)
if not mine:
    st.info(t("courses.lecturer.none"))
    st.stop()
by_id = {c.id: c for c in mine}
course_id = st.selectbox(t("courses.lecturer.choose"), list(by_id), key="lecturer_course",
                         format_func=lambda i: f"{by_id[i].title(lang)} ({by_id[i].code})")
course = by_id[course_id]
st.markdown(" · ".join([
    t("courses.list.lecturer", name=md_escape(course.lecturer_name)),
    t("courses.list.seats", capacity=course.capacity, left=course.seats_left),
    t("courses.list.waitlisted", count=course.waitlisted),
    t("courses.list.fee", fee=t.money(course.fee_yen)) if course.fee_yen else t("courses.list.free"),
]))
if course.sessions:
    st.markdown(shared.sessions_markdown(t, course.sessions))

with action(ctx, rerun=False, stop=True):
    rows = courses.participants(ctx.store, actor, course.id)
    attendance = courses.attendance(ctx.store, actor, course.id)

st.subheader(t("courses.lecturer.participants"), anchor=False)
if not rows:
    st.info(t("courses.lecturer.no_participants"))
else:
    table = pd.DataFrame([{
        t("courses.lecturer.name"): r.name,
        t("courses.lecturer.login"): r.login,
        t("courses.lecturer.email"): r.email or "—",
        t("courses.lecturer.status"): t(shared.STATUS_KEYS[r.registration.status]),
        t("courses.lecturer.position"): r.registration.waitlist_position or "",
        t("courses.lecturer.fee_owed"): t.money(r.registration.owed_yen) if r.registration.owed_yen else "",
        t("courses.lecturer.links"): r.links,
    } for r in rows])
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button(t("ui.download_csv"), write_csv_bytes(list(table.columns), table.itertuples(index=False)),
                       file_name=f"{course.code}-participants.csv", mime="text/csv", icon=":material/download:")

if course.has_online:
    st.subheader(t("courses.lecturer.attendance"), anchor=False)
    if attendance:
        # One row per participant, one column per online session: easier to scan than a long list.
        sessions = {s.id: s for s in course.sessions}
        columns = {sid: shared.when(t, sessions[sid]) for sid in dict.fromkeys(a.session_id for a in attendance)}
        grid: dict[int, dict] = {}
        for a in attendance:
            row = grid.setdefault(a.user_id, {t("courses.lecturer.name"): a.name})
            started = sessions[a.session_id].starts_at <= ctx.clock.now()
            row[columns[a.session_id]] = "✓" if a.joined else ("—" if started else "")
        st.dataframe(pd.DataFrame(list(grid.values())), hide_index=True, width="stretch")
        held = [a for a in attendance if sessions[a.session_id].starts_at <= ctx.clock.now()]
        if held:
            st.caption(t("courses.lecturer.rate", rate=t.percent(sum(a.joined for a in held) / len(held))))
    else:
        st.caption(t("ui.none"))

if actor.has(*courses.STAFF):
    left, right = st.columns(2)
    with left.form("course_capacity"):
        seats = st.number_input(t("courses.lecturer.capacity"), min_value=1, value=course.capacity, step=1)
        if st.form_submit_button(t("courses.lecturer.save")):
            with action(ctx, rerun=False) as outcome:
                promoted = courses.change_capacity(ctx.store, ctx.clock, actor, course.id, int(seats))
                outcome.done(t("courses.lecturer.capacity_saved", capacity=int(seats), count=len(promoted)))
    owing = [r for r in rows if r.registration.owed_yen]
    if owing:
        with right.form("course_paid"):
            who = st.selectbox(t("courses.lecturer.who_paid"), [r.registration.user_id for r in owing],
                               format_func=lambda u: next(f"{r.name} ({r.login})" for r in owing
                                                          if r.registration.user_id == u))
            if st.form_submit_button(t("courses.lecturer.record_paid")):
                with action(ctx, rerun=False) as outcome:
                    courses.record_fee_paid(ctx.store, ctx.clock, actor, course.id, who)
                    outcome.done(t("courses.lecturer.paid_done",
                                 name=next(r.name for r in owing if r.registration.user_id == who)))

"""Online classes (teachers): open an online lesson for one class of their school, join it
as moderator, and hand each pupil their own member link."""

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from facilities.services import courses_classes as classes
from kernel.clock import TOKYO
from kernel.csv_export import write_csv_bytes
from kernel.errors import ManabiError
from kernel.ui import action, md_escape, page_context, show_error

ctx = page_context("teacher", "school_admin")
t, lang, actor = ctx.t, ctx.lang, ctx.actor
now = ctx.clock.now()
st.title(t("courses.classes.title"))
st.caption(t("courses.classes.intro"))
KIND_KEYS = {"class": "courses.classes.kind_class", "english": "courses.classes.kind_english"}


def class_label(room) -> str:
    return t("courses.classes.class_label", grade=room.grade, name=room.class_name)


with action(ctx, rerun=False, stop=True):
    rooms = classes.classrooms(ctx.store, ctx.clock, actor)
if not rooms:
    st.info(t("courses.classes.no_registry"))
    st.stop()
by_id = {r.id: r for r in rooms}
st.dataframe(pd.DataFrame([{t("courses.classes.class"): class_label(r), t("courses.classes.pupils"): r.pupils,
                            t("courses.classes.tablets_ready"): f"{r.tablets_ready} / {r.pupils}"} for r in rooms]),
             hide_index=True, width="stretch", height=min(38 + 35 * len(rooms), 320))

with st.form("open_class"):
    st.subheader(t("courses.classes.open"), anchor=False)
    left, right = st.columns(2)
    classroom_id = left.selectbox(t("courses.classes.class"), list(by_id), format_func=lambda i: class_label(by_id[i]))
    kind = right.radio(t("courses.classes.kind"), list(KIND_KEYS), format_func=lambda k: t(KIND_KEYS[k]),
                       horizontal=True)
    title = st.text_input(t("courses.classes.lesson_title"))
    a, b, c = st.columns(3)
    # By default the next whole hour: after 23:00 that is tomorrow's first (23:00 today, as it
    # was, is past then and was refused).
    next_hour = (now.astimezone(TOKYO) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    day = a.date_input(t("courses.classes.day"), value=next_hour.date(), min_value=now.date())
    start = b.time_input(t("courses.classes.start"), value=next_hour.time(), step=timedelta(minutes=5))
    minutes = c.number_input(t("courses.classes.minutes"), min_value=15, max_value=180, value=45, step=5)
    if st.form_submit_button(t("courses.classes.create"), type="primary"):
        starts_at = datetime.combine(day, start, TOKYO)
        with action(ctx, done=t("courses.classes.created"), rerun=False):
            classes.open_class(ctx.store, ctx.clock, actor, classroom_id, kind=kind, title=title,
                               starts_at=starts_at, ends_at=starts_at + timedelta(minutes=int(minutes)))

st.subheader(t("courses.classes.upcoming"), anchor=False)
lessons = classes.my_classes(ctx.store, ctx.clock, actor)
if not lessons:
    st.caption(t("courses.classes.none"))
for lesson in lessons:
    with st.container(border=True, key=f"lesson_{lesson.id}"):
        st.markdown(f"**{md_escape(lesson.title)}** · {t(KIND_KEYS[lesson.kind])} · {md_escape(class_label(lesson.classroom))}  \n"
                    f"{t.datetime(lesson.starts_at, 'short')}–{t.time(lesson.ends_at)}")
        if lesson.classroom.tablets_ready < lesson.classroom.pupils:
            st.warning(t("courses.classes.not_ready", count=lesson.classroom.pupils - lesson.classroom.tablets_ready),
                       icon=":material/tablet:")
        host, pupils = st.columns(2)
        # One click: the link makes the teacher's own token when pressed (/classes/join/<id>).
        host.link_button(t("courses.classes.join"), f"/classes/join/{lesson.id}" + ("?lang=en" if lang == "en" else ""),
                         type="primary", icon=":material/video_call:")
        if pupils.button(t("courses.classes.pupil_links"), key=f"class_pupils_{lesson.id}"):
            try:
                links = classes.pupil_links(ctx.store, ctx.clock, actor, lesson.id)
            except ManabiError as exc:
                show_error(ctx, exc)
            else:
                table = pd.DataFrame([{
                    t("courses.classes.pseudonym"): p.pseudonym,
                    t("courses.classes.ready"): t("courses.classes.ready_yes") if p.tablet_ready
                    else t("courses.classes.ready_no"),
                    t("courses.classes.link"): p.url} for p in links])
                st.caption(t("courses.classes.links_hint"))
                st.dataframe(table, hide_index=True, width="stretch",
                             column_config={t("courses.classes.link"): st.column_config.LinkColumn()})
                st.download_button(t("courses.classes.download"), write_csv_bytes(list(table.columns), table.itertuples(index=False)),
                                   file_name=f"online-class-{lesson.id}-links.csv", mime="text/csv",
                                   key=f"class_csv_{lesson.id}", icon=":material/download:")

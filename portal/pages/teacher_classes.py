"""Administration — teachers' classes: pick a teacher, tick the classes they teach.
A teacher then sees these classes' learning records only."""

import streamlit as st

from kernel.ui import action, md_escape, page_context, show_flashes
from portal.services import schools, teacher_classes

ctx = page_context("city_admin", "school_admin")
t = ctx.t

st.title(t("teacher_classes.title"))
st.caption(t("teacher_classes.intro"))
show_flashes()
school_names = {s.id: s.name(ctx.lang) for s in schools.list_schools(ctx.store)}
if ctx.actor.has("city_admin"):
    school_id = st.selectbox(t("teacher_classes.school"), list(school_names), format_func=school_names.get,
                             key="tc_school")
else:
    school_id = ctx.actor.school_id
    st.subheader(md_escape(school_names.get(school_id, "—")))

with action(ctx, rerun=False, stop=True):
    teacher_list = teacher_classes.teachers(ctx.store, ctx.actor, school_id)
if not teacher_list:
    st.info(t("teacher_classes.no_teachers"))
    st.stop()

st.dataframe(
    [{t("account.login"): x.login, t("account.name"): x.display_name,
      t("teacher_classes.table_classes"): ", ".join(c.label for c in x.classes) or t("teacher_classes.none")}
     for x in teacher_list],
    hide_index=True, width="stretch", height=min(320, 38 + 35 * len(teacher_list)))

by_login = {x.login: x for x in teacher_list}
login = st.selectbox(t("teacher_classes.teacher"), list(by_login), key="tc_teacher",
                     format_func=lambda lg: f"{by_login[lg].display_name} ({lg})")
teacher = by_login[login]
offered = teacher_classes.known_classes(ctx.store, school_id, ctx.clock.now().date())
labels = list(dict.fromkeys([c.label for c in offered] + [c.label for c in teacher.classes]))
chosen = st.multiselect(t("teacher_classes.classes"), labels, default=[c.label for c in teacher.classes],
                        help=t("teacher_classes.classes_help"), placeholder=t("teacher_classes.placeholder"),
                        accept_new_options=True,
                        key=f"tc_classes_{login}")
if st.button(t("teacher_classes.save"), type="primary", key="tc_save"):
    with action(ctx) as outcome:
        result = teacher_classes.replace_classes(ctx.store, ctx.actor, login, chosen)
        outcome.done(t("teacher_classes.saved", login=login,
                classes=", ".join(c.label for c in result) or t("teacher_classes.none")))

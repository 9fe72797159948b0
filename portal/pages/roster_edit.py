"""Administration — roster by hand: a school administrator adds or corrects a pupil, a class or a
teacher of their own school (the city administrator of any roster school). Each save goes
through the roster import's checks; the next bundle from the school system is the roster again."""

import streamlit as st

from kernel.ui import action, flash, page_context, show_flashes
from portal.services import roster

ctx = page_context("city_admin", "school_admin")
t = ctx.t

st.title(t("roster.edit_title"))
st.caption(t("roster.edit_intro"))
show_flashes()
schools = dict(roster.roster_schools(ctx.store, ctx.actor))
if not schools:
    st.info(t("roster.no_roster_school"))
    st.stop()
school_id = st.selectbox(t("teacher_classes.school"), list(schools), format_func=schools.get, key="re_school")
with action(ctx, rerun=False, stop=True):
    classes = roster.roster_classes(ctx.store, ctx.actor, school_id)
    pupils = roster.roster_pupils(ctx.store, ctx.actor, school_id)
    teachers = roster.roster_teachers(ctx.store, ctx.actor, school_id)
class_label = {c["id"]: f"{c['grade']}-{c['class_name']} {c['title']}" for c in classes}
NEW = ""


def saved(result) -> None:
    if result.ok:
        flash(t("roster.saved"))
        st.rerun()
    st.error(t("roster.rejected", count=len(result.errors)), icon=":material/error:")
    st.dataframe([{t("roster.file"): p["file"], t("ui.reason"): p["reason"]}
                  for p in roster.problems_as_json(t, result.errors)], hide_index=True, width="stretch")


tab_pupils, tab_classes, tab_teachers = st.tabs([t("roster.tab_pupils"), t("roster.tab_classes"),
                                                 t("roster.tab_teachers")])
with tab_pupils:
    st.dataframe([{t("roster.name"): f"{p['family_name']} {p['given_name']}",
                   t("roster.kana"): f"{p['kana_family']} {p['kana_given']}",
                   t("roster.class"): f"{p['grade']}-{p['class_name']}", "sourcedId": p["id"]} for p in pupils],
                 hide_index=True, width="stretch", height=280)
    by_id = {p["id"]: p for p in pupils}
    chosen = st.selectbox(t("roster.pupil"), [NEW, *by_id], key="re_pupil", format_func=lambda i: (
        t("roster.new_pupil") if i == NEW else f"{by_id[i]['family_name']} {by_id[i]['given_name']} ({i})"))
    current = by_id.get(chosen, {})
    with st.form(f"re_pupil_form_{chosen}"):
        left, right = st.columns(2)
        family = left.text_input(t("roster.family_name"), current.get("family_name", ""))
        given = right.text_input(t("roster.given_name"), current.get("given_name", ""))
        kana_family = left.text_input(t("roster.kana_family"), current.get("kana_family", ""))
        kana_given = right.text_input(t("roster.kana_given"), current.get("kana_given", ""))
        ids = list(class_label)
        home = st.selectbox(t("roster.class"), ids, format_func=class_label.get,
                            index=ids.index(current["home_class"]) if current.get("home_class") in ids else 0)
        if st.form_submit_button(t("roster.save"), type="primary"):
            with action(ctx, rerun=False):
                saved(roster.save_pupil(ctx.store, ctx.clock, ctx.actor, school_id, sourced_id=chosen or None,
                                        family_name=family, given_name=given, kana_family=kana_family,
                                        kana_given=kana_given, class_id=home))

with tab_classes:
    by_class = {c["id"]: c for c in classes}
    chosen_class = st.selectbox(t("roster.class"), [NEW, *by_class], key="re_class", format_func=lambda i: (
        t("roster.new_class") if i == NEW else class_label[i]))
    current = by_class.get(chosen_class, {})
    with st.form(f"re_class_form_{chosen_class}"):
        grade = st.number_input(t("roster.grade"), 1, 9, int(current.get("grade", 1)), disabled=bool(current))
        name = st.text_input(t("roster.class_code"), current.get("class_name", ""))
        title = st.text_input(t("roster.class_title"), current.get("title", ""))
        if st.form_submit_button(t("roster.save"), type="primary"):
            with action(ctx, rerun=False):
                saved(roster.save_class(ctx.store, ctx.clock, ctx.actor, school_id, sourced_id=chosen_class or None,
                                        grade=int(grade), class_name=name, title=title))

with tab_teachers:
    by_teacher = {x["id"]: x for x in teachers}
    chosen_teacher = st.selectbox(t("roster.teacher"), [NEW, *by_teacher], key="re_teacher", format_func=lambda i: (
        t("roster.new_teacher") if i == NEW else
        f"{by_teacher[i]['family_name']} {by_teacher[i]['given_name']} ({by_teacher[i]['username']})"))
    current = by_teacher.get(chosen_teacher, {})
    with st.form(f"re_teacher_form_{chosen_teacher}"):
        username = st.text_input(t("roster.username"), current.get("username", ""))
        email = st.text_input(t("roster.email"), current.get("email", ""))
        left, right = st.columns(2)
        family = left.text_input(t("roster.family_name"), current.get("family_name", ""))
        given = right.text_input(t("roster.given_name"), current.get("given_name", ""))
        kana_family = left.text_input(t("roster.kana_family"), current.get("kana_family", ""))
        kana_given = right.text_input(t("roster.kana_given"), current.get("kana_given", ""))
        taught = st.multiselect(t("roster.classes_taught"), list(class_label), format_func=class_label.get,
                                default=[c for c in current.get("classes", []) if c in class_label])
        if st.form_submit_button(t("roster.save"), type="primary"):
            with action(ctx, rerun=False):
                saved(roster.save_teacher(ctx.store, ctx.clock, ctx.actor, school_id,
                                          sourced_id=chosen_teacher or None, username=username,
                                          family_name=family, given_name=given, kana_family=kana_family,
                                          kana_given=kana_given, email=email, class_ids=taught))

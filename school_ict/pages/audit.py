"""Bulk audit: scan or paste the tags found in a cart, a classroom or the whole school;
see unknown tags, devices missing from where they should be, and strays."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import page_context, show_error
from school_ict.pages._shared import class_label, pick_school
from school_ict.services import audit, registry

ctx = page_context("teacher", "school_admin", "city_admin")
t = ctx.t
st.title(t("ict.audit.title"))
school_id = pick_school(ctx, allow_all=False)

scopes = {"school": t("ict.audit.scope_school")}
scopes |= {f"cart:{c}": t("ict.audit.scope_cart", cart=c) for c in registry.list_carts(ctx.store, ctx.actor, school_id)}
scopes |= {f"classroom:{r.id}": t("ict.audit.scope_classroom", room=class_label(t, r.grade, r.class_name))
           for r in registry.list_classrooms(ctx.store, ctx.actor, school_id)}

with st.form("ict_audit"):
    scope = st.selectbox(t("ict.audit.scope"), list(scopes), format_func=scopes.get)
    pasted = st.text_area(t("ict.audit.tags"), height=200, key="ict_audit_tags")
    submitted = st.form_submit_button(t("ict.audit.run"), type="primary")
if submitted:
    try:
        result = audit.run_audit(ctx.store, ctx.clock, ctx.actor, school_id, scope, pasted)
    except ManabiError as exc:
        show_error(ctx, exc)
    else:
        st.info(t("ict.audit.summary", seen=len(result.seen), unknown=len(result.unknown),
                  missing=len(result.missing), elsewhere=len(result.elsewhere)))
        columns = st.columns(3)
        for column, title, tags in ((columns[0], "ict.audit.unknown", result.unknown),
                                    (columns[1], "ict.audit.missing", result.missing),
                                    (columns[2], "ict.audit.elsewhere", result.elsewhere)):
            column.subheader(t(title), anchor=False)
            column.dataframe([{t("ict.col.tag"): tag} for tag in tags], hide_index=True)

st.subheader(t("ict.audit.past"), anchor=False)
past = audit.list_audits(ctx.store, ctx.actor, school_id)
if past:
    st.dataframe(
        [{t("ict.audit.when"): t.datetime(a["audited_at"], "short"),
          t("ict.audit.scope"): scopes.get(a["scope"], a["scope"]), t("ict.audit.by"): a["by_login"],
          t("ict.audit.seen"): a["seen"], t("ict.audit.unknown"): a["unknown"], t("ict.audit.missing"): a["missing"]}
         for a in past],
        hide_index=True)
else:
    st.caption(t("ui.none"))

"""Administration — users: find, add, change roles, set a password, unlock."""

import streamlit as st

from kernel.actor import ALL_ROLES
from kernel.ui import action, page_context
from portal.services import accounts, schools

ctx = page_context("city_admin")
t = ctx.t

st.title(t("admin_users.title"))
school_list = schools.list_schools(ctx.store)
school_names = {s.id: s.name(ctx.lang) for s in school_list}
role_label = {r.value: t(f"role.{r.value}") for r in ALL_ROLES}

filter_col, search_col = st.columns(2)
role = filter_col.selectbox(t("admin_users.filter_role"), [None, *role_label],
                            format_func=lambda r: t("admin_users.all_roles") if r is None else role_label[r])
search = search_col.text_input(t("admin_users.search"))
users = accounts.list_users(ctx.store, ctx.actor, role=role, search=search or None)
now = ctx.clock.now()
st.caption(t("admin_users.count", count=t.number(len(users))))
st.dataframe(
    [
        {
            t("account.login"): u.login,
            t("account.name"): u.display_name,
            t("account.roles"): " · ".join(role_label[r] for r in u.roles),
            t("account.school"): school_names.get(u.school_id, "—"),
            t("account.email"): u.email or "—",
            t("admin_users.state"): (
                t("admin_users.locked_until", until=t.time(u.locked_until))
                if u.locked_until and u.locked_until > now
                else t("admin_users.disabled") if u.disabled else t("admin_users.active")
            ),
        }
        for u in users
    ],
    hide_index=True,
    height=320,
)

add_tab, roles_tab, password_tab = st.tabs(
    [t("admin_users.add"), t("admin_users.set_roles"), t("admin_users.set_password")]
)
with add_tab, st.form("add_user", clear_on_submit=True):
    login = st.text_input(t("account.login"), help=t("admin_users.login_rule"))
    name = st.text_input(t("account.name"))
    email = st.text_input(t("account.email"))
    roles = st.multiselect(t("account.roles"), list(role_label), format_func=role_label.get)
    school = st.selectbox(t("account.school"), [None, *school_names],
                          format_func=lambda s: "—" if s is None else school_names[s])
    password = st.text_input(t("signin.password"), type="password",
                             help=t("account.password_rule", min=accounts.MIN_PASSWORD_LENGTH))
    if st.form_submit_button(t("admin_users.add"), type="primary"):
        with action(ctx, done=t("admin_users.added", login=login), rerun=False):
            accounts.create_user(ctx.store, ctx.clock, login=login, display_name=name, roles=roles,
                                 password=password or None, email=email or None, school_id=school)

logins = [u.login for u in users]
with roles_tab, st.form("set_roles"):
    who = st.selectbox(t("account.login"), logins, key="roles_login")
    new_roles = st.multiselect(t("account.roles"), list(role_label), format_func=role_label.get)
    if st.form_submit_button(t("admin_users.set_roles"), type="primary") and who:
        with action(ctx, done=t("admin_users.roles_set", login=who), rerun=False):
            accounts.set_roles(ctx.store, ctx.actor, who, new_roles)

with password_tab, st.form("set_password", clear_on_submit=True):
    who = st.selectbox(t("account.login"), logins, key="password_login")
    new_password = st.text_input(t("account.new_password"), type="password")
    unlock_only = st.checkbox(t("admin_users.unlock_only"))
    if st.form_submit_button(t("admin_users.apply"), type="primary") and who:
        with action(ctx, done=t("admin_users.applied", login=who), rerun=False):
            if unlock_only:
                accounts.unlock(ctx.store, ctx.actor, who)
            else:
                accounts.set_password(ctx.store, ctx.clock, ctx.actor, who, new_password)

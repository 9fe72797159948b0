"""Sign-in: a local account, or the school's identity provider where configured."""

from pathlib import Path

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import page_context, show_error
from portal import demo
from portal.runtime import open_runtime
from portal.services import accounts
from portal.ui import shell

ctx = page_context()
t = ctx.t
runtime = open_runtime()
_PAGES = Path(__file__).resolve().parent

st.title(t("signin.title"))
with st.form("sign_in", clear_on_submit=False, enter_to_submit=True):
    login = st.text_input(t("signin.login"), key="signin_login", autocomplete="username")
    password = st.text_input(t("signin.password"), type="password", key="signin_password",
                             autocomplete="current-password")
    submitted = st.form_submit_button(t("signin.submit"), type="primary", icon=":material/login:")
if submitted:
    if not login or not password:
        st.warning(t("signin.fill_both"))
    else:
        try:
            actor = accounts.authenticate(ctx.store, ctx.clock, login, password)
        except ManabiError as exc:
            show_error(ctx, exc)
        else:
            shell.sign_in(actor, runtime)
            st.session_state.pop("signin_password", None)
            st.rerun()

for provider in runtime.settings.oidc:
    if st.button(t(f"signin.with_{provider.name}"), key=f"oidc_{provider.name}", icon=":material/badge:"):
        st.login(provider.name)

st.caption(t("signin.policy", attempts=accounts.LOCKOUT_ATTEMPTS,
             minutes=int(accounts.LOCKOUT_DURATION.total_seconds() // 60),
             idle=int(accounts.SESSION_IDLE.total_seconds() // 60)))

# A forgotten password and a first visit: the pages for visitors not signed in.
left, right = st.columns(2)
left.page_link(_PAGES / "forgot_password.py", label=t("forgot.link"), icon=":material/lock_reset:")
right.page_link(_PAGES / "register.py", label=t("forgot.register_link"), icon=":material/person_add:")

if runtime.is_demo():
    with st.expander(t("signin.demo_title"), expanded=True, icon=":material/key:"):
        st.write(t("signin.demo_text", password=demo.DEMO_PASSWORD))
        st.dataframe(
            [{t("account.login"): login, t("signin.demo_name"): name,
              t("signin.demo_roles"): " · ".join(t(f"role.{r}") for r in roles)}
             for login, name, roles in demo.FEATURED],
            hide_index=True,
        )

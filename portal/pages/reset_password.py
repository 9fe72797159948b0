"""The reset link (…/reset-password?token=…): choose a new password."""

from pathlib import Path

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import page_context, show_error
from portal.services import accounts, registration

ctx = page_context()
t = ctx.t

st.title(t("reset.title"))
token = st.query_params.get("token", "")
done = st.session_state.get("reset_done")
if done and done[0] == token:
    st.success(t("reset.done", login=done[1]), icon=":material/check_circle:")
    if not ctx.actor.signed_in:
        st.page_link(Path(__file__).resolve().parent / "sign_in.py", label=t("confirm.to_sign_in"),
                     icon=":material/login:")
    st.stop()
try:
    registration.check_reset_link(ctx.store, ctx.clock, token)
except ManabiError as exc:
    show_error(ctx, exc)
    if not ctx.actor.signed_in:  # a way on: ask for a new link (that page is for visitors only)
        st.page_link(Path(__file__).resolve().parent / "forgot_password.py", label=t("forgot.link"),
                     icon=":material/send:")
    st.stop()

# No Enter-to-submit: Streamlit's hint for it ("Press Enter to submit form") is English only.
with st.form("reset", enter_to_submit=False):
    new = st.text_input(t("reset.new_password"), type="password", key="reset_new", autocomplete="new-password",
                        help=t("account.password_rule", min=accounts.MIN_PASSWORD_LENGTH))
    again = st.text_input(t("reset.again"), type="password", key="reset_again", autocomplete="new-password")
    submitted = st.form_submit_button(t("reset.submit"), type="primary", icon=":material/password:")
if submitted:
    if new != again:
        st.error(t("account.passwords_differ"))
    else:
        try:
            login = registration.reset_password(ctx.store, ctx.clock, token, new)
        except ManabiError as exc:
            show_error(ctx, exc)
        else:
            for key in ("reset_new", "reset_again"):
                st.session_state.pop(key, None)
            st.session_state["reset_done"] = (token, login)
            st.rerun()

"""The confirmation link of a sign-up or a change of address (…/confirm-email?token=…)."""

from pathlib import Path

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import page_context, show_error
from portal.services import registration

ctx = page_context()
t = ctx.t
_PAGES = Path(__file__).resolve().parent

st.title(t("confirm.title"))
token = st.query_params.get("token", "")
# Streamlit reruns the page on every interaction: the link is used once, its result kept.
done = st.session_state.get("confirm_done")
if done is None or done[0] != token:
    if not token:
        st.info(t("confirm.no_token"))
        st.stop()
    try:
        confirmed = registration.confirm_email(ctx.store, ctx.clock, token)
    except ManabiError as exc:
        show_error(ctx, exc)
        if not ctx.actor.signed_in:  # a way on: the link may have been used already, or a new sign-up is needed
            st.page_link(_PAGES / "sign_in.py", label=t("confirm.to_sign_in"), icon=":material/login:")
            st.page_link(_PAGES / "register.py", label=t("forgot.register_link"), icon=":material/person_add:")
        st.stop()
    done = st.session_state["confirm_done"] = (token, confirmed)
confirmed = done[1]
if confirmed.changed:
    st.success(t("confirm.changed", email=confirmed.email), icon=":material/mark_email_read:")
else:
    st.success(t("confirm.registered", login=confirmed.login), icon=":material/mark_email_read:")
    if not ctx.actor.signed_in:
        st.page_link(_PAGES / "sign_in.py", label=t("confirm.to_sign_in"),
                     icon=":material/login:")

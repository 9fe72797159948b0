"""Forgotten password: mail a reset link. The answer is the same for any address."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import page_context, show_error
from portal.services import registration

ctx = page_context()
t = ctx.t
minutes = int(registration.RESET_VALID.total_seconds() // 60)

st.title(t("forgot.title"))
st.write(t("forgot.intro", minutes=minutes))
# No Enter-to-submit: Streamlit's hint for it ("Press Enter to submit form") is English only.
with st.form("forgot", enter_to_submit=False):
    email = st.text_input(t("forgot.email"), key="forgot_email", autocomplete="email")
    submitted = st.form_submit_button(t("forgot.submit"), type="primary", icon=":material/send:")
if submitted and email.strip():
    try:
        registration.request_password_reset(ctx.store, ctx.clock, email, ctx.lang)
    except ManabiError as exc:
        show_error(ctx, exc)
    else:
        st.success(t("forgot.sent", email=email.strip().lower(), minutes=minutes), icon=":material/mark_email_unread:")

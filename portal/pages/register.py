"""Sign-up for residents (利用者登録): the form, then "check your mail"."""

from datetime import date
from pathlib import Path

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import page_context, show_error
from portal.services import accounts, registration

ctx = page_context()
t = ctx.t
_PAGES = Path(__file__).resolve().parent

st.title(t("register.title"))
st.write(t("register.intro"))
sent_to = st.session_state.get("register_sent")
if sent_to:
    st.success(t("register.sent", email=sent_to, hours=int(registration.CONFIRM_VALID.total_seconds() // 3600)),
               icon=":material/mark_email_unread:")
    st.page_link(_PAGES / "sign_in.py", label=t("confirm.to_sign_in"), icon=":material/login:")
    st.stop()

today = ctx.clock.now().date()
ties = list(registration.CITY_TIES)
# No Enter-to-submit: a half-filled form is not sent by a stray Enter, and Streamlit's hint for it
# ("Press Enter to submit form") is English only.
with st.form("register", enter_to_submit=False):
    name = st.text_input(t("register.name"), key="register_name", max_chars=100, autocomplete="name")
    kana = st.text_input(t("register.kana"), key="register_kana", max_chars=100, placeholder="いいづか はなこ")
    address = st.text_input(t("register.address"), key="register_address", max_chars=200,
                            autocomplete="street-address")
    birth = st.date_input(t("register.birth_date"), key="register_birth", value=None,
                          min_value=date(today.year - 120, 1, 1), max_value=today, format="YYYY/MM/DD")
    tie = st.radio(t("register.city_tie"), ties, key="register_tie", format_func=lambda k: t(f"register.tie_{k}"))
    email = st.text_input(t("register.email"), key="register_email", autocomplete="email")
    password = st.text_input(t("register.password"), type="password", key="register_password",
                             autocomplete="new-password",
                             help=t("account.password_rule", min=accounts.MIN_PASSWORD_LENGTH))
    again = st.text_input(t("register.password_again"), type="password", key="register_again",
                          autocomplete="new-password")
    st.caption(t("register.privacy"))
    submitted = st.form_submit_button(t("register.submit"), type="primary", icon=":material/person_add:")

if submitted:
    if not all([name, kana, address, birth, email, password]):
        st.warning(t("register.fill_all"))
    elif password != again:
        st.error(t("register.passwords_differ"))
    else:
        # The visitor's address as the server sees it (behind a proxy: the proxy's).
        ip_address = st.context.ip_address if isinstance(st.context.ip_address, str) else "unknown"
        form = registration.SignUp(name=name, kana=kana, address=address, birth_date=birth, email=email,
                                   password=password, city_tie=tie, lang=ctx.lang)
        try:
            registration.register(ctx.store, ctx.clock, form, ip=ip_address)
        except ManabiError as exc:
            show_error(ctx, exc)
        else:
            for key in ("register_password", "register_again"):
                st.session_state.pop(key, None)
            st.session_state["register_sent"] = email.strip().lower()
            st.rerun()

st.page_link(_PAGES / "sign_in.py", label=t("register.have_account"), icon=":material/login:")

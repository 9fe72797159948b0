"""My account: who I am, my roles and school, and changing my password."""

import streamlit as st

from kernel.errors import ManabiError
from kernel.ui import page_context, show_error
from portal.services import accounts, schools

ctx = page_context()
t = ctx.t
actor = ctx.actor
actor.require()

st.title(t("account.title"))
school_names = {s.id: s.name(ctx.lang) for s in schools.list_schools(ctx.store)}
st.dataframe(
    [
        {t("account.field"): t("account.login"), t("account.value"): actor.login},
        {t("account.field"): t("account.name"), t("account.value"): actor.display_name},
        {t("account.field"): t("account.roles"),
         t("account.value"): " · ".join(t(f"role.{r}") for r in sorted(actor.roles))},
        {t("account.field"): t("account.school"),
         t("account.value"): school_names.get(actor.school_id, "—")},
        {t("account.field"): t("account.email"), t("account.value"): actor.email or "—"},
    ],
    hide_index=True,
)

st.subheader(t("account.change_password"), anchor=False)
with st.form("change_password", clear_on_submit=True):
    current = st.text_input(t("account.current_password"), type="password", autocomplete="current-password")
    new = st.text_input(t("account.new_password"), type="password", autocomplete="new-password",
                        help=t("account.password_rule", min=accounts.MIN_PASSWORD_LENGTH))
    again = st.text_input(t("account.repeat_password"), type="password", autocomplete="new-password")
    if st.form_submit_button(t("account.save_password"), type="primary"):
        if new != again:
            st.error(t("account.passwords_differ"))
        else:
            try:
                accounts.change_own_password(ctx.store, ctx.clock, actor, current, new)
            except ManabiError as exc:
                show_error(ctx, exc)
            else:
                st.success(t("account.password_changed"))

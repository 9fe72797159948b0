"""My account: who I am, my roles and school, and changing my password."""

import streamlit as st

from kernel.actor import Role
from kernel.errors import ManabiError
from kernel.i18n import LANGUAGES
from kernel.ui import action, flash, page_context, show_error
from portal.runtime import open_runtime
from portal.services import accounts, notify, registration, retention, schools
from portal.ui import shell

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
            with action(ctx, done=t("account.password_changed"), rerun=False):
                accounts.change_own_password(ctx.store, ctx.clock, actor, current, new)

# Notifications by e-mail: the language of the mail and the kinds received (security mail always).
st.subheader(t("mail_account.title"), anchor=False)
mine = notify.choices(ctx.store, actor, proposed_lang=ctx.lang)
st.caption(t("mail_account.address", email=actor.email) if actor.email else t("mail_account.no_address"))
with st.form("mail_choices"):
    lang = st.radio(t("mail_account.lang"), LANGUAGES, index=LANGUAGES.index(mine.lang), horizontal=True,
                    format_func=lambda code: {"ja": "日本語", "en": "English"}[code], key="mail_lang")
    st.markdown(f"**{t('mail_account.kinds')}**")
    receive = {kind.name for kind in mine.kinds
               if st.checkbox(t(f"mail.{kind.name}.label"), value=kind.name not in mine.off,
                              key=f"mail_kind_{kind.name}")}
    if not mine.kinds:
        st.caption(t("mail_account.nothing_to_choose"))
    st.caption(t("mail_account.security"))
    if st.form_submit_button(t("mail_account.save")):
        with action(ctx, done=t("mail_account.saved"), rerun=False):
            notify.save_choices(ctx.store, ctx.clock, actor, lang, receive)

# A resident's own registration: residence, library card, e-mail address, leaving.
if actor.has("resident"):
    registered = registration.my_registration(ctx.store, actor)
    if registered is not None:
        st.subheader(t("account_more.registration"), anchor=False)
        if registered.residence_confirmed_at:
            st.success(t("account_more.residence_done", date=t.date(registered.residence_confirmed_at.date())),
                       icon=":material/how_to_reg:")
        else:
            st.info(t("account_more.residence_pending"), icon=":material/storefront:")

    st.subheader(t("account_more.library_card"), anchor=False)
    with st.form("library_card"):
        card = st.text_input(t("account_more.library_card"), value=registration.library_card(ctx.store, actor) or "",
                             key="account_card", max_chars=30, help=t("account_more.library_card_help"))
        if st.form_submit_button(t("account_more.save_card")):
            with action(ctx, rerun=False) as outcome:
                linked = registration.link_library_card(ctx.store, ctx.clock, actor, card)
                outcome.done(t("account_more.card_saved" if linked else "account_more.card_removed"))

    st.subheader(t("account_more.change_email"), anchor=False)
    waiting = registration.pending_email(ctx.store, ctx.clock, actor)
    if waiting:
        st.caption(t("account_more.email_pending", email=waiting))
    with st.form("change_email", clear_on_submit=True):
        new_email = st.text_input(t("account_more.new_email"), key="account_new_email", autocomplete="email")
        if st.form_submit_button(t("account_more.send_link")) and new_email.strip():
            with action(ctx, rerun=False) as outcome:
                registration.change_email(ctx.store, ctx.clock, actor, new_email, ctx.lang)
                outcome.done(t("account_more.email_link_sent", email=new_email.strip().lower()))

    if actor.roles == {Role.RESIDENT}:
        with st.expander(t("account_more.leave"), icon=":material/no_accounts:"):
            st.write(t("account_more.leave_intro", days=retention.LEFT_ACCOUNT_KEPT.days))
            with st.form("leave"):
                leave_password = st.text_input(t("account_more.leave_password"), type="password",
                                               key="account_leave_password", autocomplete="current-password")
                sure = st.checkbox(t("account_more.leave_confirm"), key="account_leave_sure")
                if st.form_submit_button(t("account_more.leave_submit"), type="primary") and sure:
                    try:
                        registration.leave(ctx.store, ctx.clock, actor, leave_password)
                    except registration.SettleFirst as exc:
                        st.error(t.error(exc), icon=":material/error:")
                        for item in exc.items:
                            st.markdown(f"- {t(item.key, **item.params)}")
                    except ManabiError as exc:
                        show_error(ctx, exc)
                    else:
                        shell.sign_out(open_runtime())
                        flash(t("account_more.left"), "info")
                        st.rerun()

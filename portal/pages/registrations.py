"""Counter staff: registrations waiting for residence to be confirmed, with search."""

import streamlit as st

from kernel.ui import action, page_context
from portal.services import registration

ctx = page_context(*registration.COUNTER_ROLES)
t = ctx.t

st.title(t("registrations.title"))
st.caption(t("registrations.intro"))
left, right = st.columns([3, 1], vertical_alignment="bottom")
search = left.text_input(t("registrations.search"), key="registrations_search")
show_all = right.toggle(t("registrations.show_confirmed"), key="registrations_all")
rows = registration.pending_registrations(ctx.store, ctx.actor, search, include_confirmed=show_all)
if not rows:
    st.info(t("registrations.none"))
    st.stop()


def _when(value):
    return t.datetime(value, "short") if value else "—"


st.dataframe(
    [{t("registrations.name"): r.name, t("registrations.kana"): r.kana, t("registrations.email"): r.email,
      t("registrations.address"): r.address, t("registrations.birth_date"): t.date(r.birth_date),
      t("registrations.tie"): t(f"register.tie_{r.city_tie}"),
      t("registrations.registered_at"): _when(r.registered_at),
      t("registrations.confirmed_at"): _when(r.residence_confirmed_at),
      t("registrations.confirmed_by"): r.residence_confirmed_by or "—"} for r in rows],
    hide_index=True,
)
waiting = {r.user_id: r for r in rows if r.residence_confirmed_at is None}
if waiting:
    with st.form("confirm_residence", clear_on_submit=True):
        chosen = st.selectbox(t("registrations.pick"), list(waiting), key="registrations_pick",
                              format_func=lambda uid: f"{waiting[uid].name}（{waiting[uid].kana}）"
                                                      f" {t.date(waiting[uid].birth_date)} {waiting[uid].address}")
        note = st.text_input(t("registrations.note"), key="registrations_note")
        if st.form_submit_button(t("registrations.confirm"), type="primary", icon=":material/how_to_reg:"):
            with action(ctx) as outcome:
                done = registration.confirm_residence(ctx.store, ctx.clock, ctx.actor, chosen, note)
                outcome.done(t("registrations.done", name=done.name))

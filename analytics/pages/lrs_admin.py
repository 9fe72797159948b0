"""The learning record store's administration: client apps (key and secret shown once),
the learner roster and curriculum units from CSV, and the log of who viewed whose records."""

import streamlit as st

from analytics.services import dashboards, lrs, roster
from kernel.errors import ManabiError
from kernel.ui import action, flash, md_escape, page_context, show_error, show_flashes

ctx = page_context("city_admin", "school_admin")
t = ctx.t
is_city = ctx.actor.has("city_admin")

st.title(t("analytics.admin.title"))
show_flashes()
first, second = st.columns(2)
first.metric(t("analytics.admin.statements"), t.number(lrs.statement_count(ctx.store)))
second.metric(t("analytics.admin.learners"),
              t.number(roster.learner_count(ctx.store, None if is_city else ctx.actor.school_id)))

sections = ([t("analytics.admin.clients")] if is_city else []) + [t("analytics.admin.roster")] + \
    ([t("analytics.admin.units"), t("analytics.admin.access_log")] if is_city else [])
tabs = dict(zip(sections, st.tabs(sections), strict=True))

if is_city:
    with tabs[t("analytics.admin.clients")]:
        st.caption(t("analytics.admin.clients_help"))
        new_client = st.session_state.pop("analytics_new_client", None)
        if new_client:
            st.success(t("analytics.admin.client_added", name=md_escape(new_client["name"])))
            st.code(f"key:    {new_client['key']}\nsecret: {new_client['secret']}", language=None)
            st.warning(t("analytics.cli.secret_once"))
        clients = lrs.list_clients(ctx.store, ctx.actor)
        st.dataframe(
            [{t("analytics.admin.client_name"): c["name"], t("analytics.admin.client_key"): c["api_key"],
              t("analytics.admin.created"): t.datetime(c["created_at"]),
              t("analytics.admin.statements"): c["statements"],
              t("analytics.admin.scope"): t("analytics.cli.scope_all" if c["read_all"] else "analytics.cli.scope_mine")}
             for c in clients],
            hide_index=True, width="stretch")
        if clients:
            # What each key reads: its own statements (xAPI statements/read/mine), or all by this grant.
            with st.form("analytics_client_scope"):
                st.caption(t("analytics.admin.scope_help"))
                chosen = st.selectbox(t("analytics.admin.client_name"), [c["name"] for c in clients],
                                      key="analytics_scope_client")
                scope = st.radio(t("analytics.admin.scope"), ["mine", "all"], horizontal=True,
                                 format_func=lambda s: t(f"analytics.cli.scope_{s}"), key="analytics_scope")
                if st.form_submit_button(t("analytics.admin.set_scope")):
                    with action(ctx) as outcome:
                        changed = lrs.grant_read_all(ctx.store, ctx.actor, chosen, scope == "all")
                        outcome.done(t("analytics.cli.scope_set", name=changed["name"],
                                scope=t("analytics.cli.scope_all" if changed["read_all"] else "analytics.cli.scope_mine")))
        with st.form("analytics_add_client", clear_on_submit=True):
            name = st.text_input(t("analytics.admin.client_name"), key="analytics_client_name")
            if st.form_submit_button(t("analytics.admin.add_client"), type="primary"):
                try:
                    made = lrs.add_client(ctx.store, ctx.clock, ctx.actor, name)
                except ManabiError as exc:
                    show_error(ctx, exc)
                else:
                    st.session_state["analytics_new_client"] = {"name": made.name, "key": made.api_key,
                                                                "secret": made.secret}
                    st.rerun()


def _csv_import(label_key: str, columns: tuple[str, ...], importer, done_key: str, widget_key: str) -> None:
    st.caption(t(label_key, columns=",".join(columns)))
    upload = st.file_uploader(t("analytics.admin.csv_file"), type=["csv"], key=widget_key)
    if upload is not None and st.button(t("analytics.admin.import"), key=f"{widget_key}_go", type="primary"):
        try:
            count = importer(ctx.store, ctx.actor, upload.getvalue().decode("utf-8-sig"))
        except UnicodeDecodeError:
            st.error(t("analytics.admin.not_utf8"))
        except ManabiError as exc:
            show_error(ctx, exc)
        else:
            flash(t(done_key, count=count))
            st.rerun()


with tabs[t("analytics.admin.roster")]:
    _csv_import("analytics.admin.roster_help", roster.LEARNER_COLUMNS, roster.import_learners,
                "analytics.cli.learners_imported", "analytics_roster_csv")

if is_city:
    with tabs[t("analytics.admin.units")]:
        _csv_import("analytics.admin.units_help", roster.UNIT_COLUMNS, roster.import_units,
                    "analytics.cli.units_imported", "analytics_units_csv")
    with tabs[t("analytics.admin.access_log")]:
        st.dataframe(
            [{t("analytics.admin.viewed_at"): t.datetime(r["viewed_at"]), t("analytics.admin.viewer"): r["user_id"],
              t("analytics.dash.pupil"): r["learner_id"], t("analytics.admin.view"): r["view"]}
             for r in dashboards.access_log(ctx.store, ctx.actor)],
            hide_index=True, width="stretch")

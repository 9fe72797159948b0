"""Administration — system: database, schema versions, table sizes."""

import streamlit as st

from kernel.ui import page_context
from portal.services import retention, system

ctx = page_context("city_admin")
t = ctx.t

st.title(t("admin_system.title"))
info = system.describe(ctx.store)
left, right = st.columns(2)
left.metric(t("admin_system.database"), info.path)
right.metric(t("admin_system.size"), t("admin_system.megabytes", mb=t.number(round(info.size_mb, 1))))
st.subheader(t("admin_system.schema"), anchor=False)
st.dataframe(
    [{t("admin_system.module"): m, t("admin_system.version"): v} for m, v in info.schema.items()],
    hide_index=True,
)
st.subheader(t("admin_system.tables"), anchor=False)
st.dataframe(
    [{t("admin_system.table"): name, t("admin_system.rows"): t.number(n)} for name, n in info.tables],
    hide_index=True,
)
st.caption(t("admin_system.backup_hint"))

# How long personal data is kept, and what the last nightly run removed.
st.subheader(t("retention.title"), anchor=False)
st.caption(t("retention.intro"))


def _kept(days: int) -> str:
    return t("retention.years", years=days // 365) if days % 365 == 0 else t("retention.days", days=days)


# A table that wraps its long texts (the rules are read, not sorted).
st.table(
    [{t("retention.rule"): t(f"retention.name.{s.rule.key}"),
      t("retention.kept"): _kept(s.rule.kept.days),
      t("retention.what"): t(f"retention.detail.{s.rule.key}"),
      t("retention.last_run"): t.datetime(s.last_run, "short") if s.last_run else t("retention.never"),
      t("retention.removed"): (t(f"retention.{s.note}") if s.note else t.number(s.removed))
      if s.removed is not None else "—"}
     for s in retention.status(ctx.store, ctx.actor)],
    hide_index=True,
)

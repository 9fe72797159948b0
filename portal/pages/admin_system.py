"""Administration — system: database, schema versions, table sizes."""

import streamlit as st

from kernel import jobs
from kernel.errors import ManabiError
from kernel.ui import page_context
from portal.services import mail, retention, system

ctx = page_context("city_admin")
t = ctx.t

st.title(t("admin_system.title"))
info = system.describe(ctx.store)
left, right = st.columns(2)
left.metric(t("admin_system.database"), info.path)
right.metric(t("admin_system.size"), t("admin_system.megabytes", mb=t.number(round(info.size_mb, 1))))

st.subheader(t("admin_system.jobs"), anchor=False)
job_list = system.jobs_overview(ctx.store, ctx.clock)
failed = [job for job in job_list if job.outcome == "error"]
if failed:
    st.warning(t("admin_system.jobs_errors", count=len(failed)))
check = t.number(round(jobs.check_seconds()))
outcome_names = {"ok": t("admin_system.outcome_ok"), "error": t("admin_system.outcome_error"),
                 None: t("admin_system.never_run")}
st.dataframe(
    [{
        t("admin_system.job"): t(job.title_key) if job.title_key and t.has(job.title_key) else job.name,
        t("admin_system.schedule"): t("admin_system.nightly") if job.minutes is None
        else t("admin_system.every_minutes", minutes=t.number(job.minutes)),
        t("admin_system.last_run"): t.datetime(job.started_at) if job.started_at else "—",
        t("admin_system.outcome"): outcome_names[job.outcome],
        t("admin_system.duration"): "—" if job.seconds is None
        else t("admin_system.seconds", seconds=t.number(round(job.seconds, 2))),
        t("admin_system.next_run"): t.datetime(job.next_run) if job.next_run
        else t("admin_system.next_check", seconds=check),
        t("admin_system.failures"): job.failures,
        t("admin_system.detail"): job.message or system.job_result_text(job.result),
    } for job in job_list],
    hide_index=True,
)
try:
    backup_dir, keep_days = system.backup_settings()
    st.caption(t("admin_system.backup_on", folder=str(backup_dir), keep=keep_days) if backup_dir
               else t("admin_system.backup_off"))
except ManabiError as exc:  # a MANABI_BACKUP_KEEP that is no number: say which setting to mend
    st.error(t.error(exc))

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

# Mail: whether it can go out at all, what waits, what failed (portal/services/mail.py).
st.subheader(t("mail_system.title"), anchor=False)
outbox = mail.summary(ctx.store)
settings = mail.smtp_settings()
if outbox.configured:
    st.caption(t("mail_system.configured", host=f"{settings.host}:{settings.port}", sender=settings.sender))
else:
    st.warning(t("mail_system.not_configured", missing=", ".join(outbox.missing)), icon=":material/mail_lock:")
queued, sent, failed = st.columns(3)
queued.metric(t("mail_system.queued"), t.number(outbox.queued))
sent.metric(t("mail_system.sent"), t.number(outbox.sent))
failed.metric(t("mail_system.failed"), t.number(outbox.failed))
if outbox.oldest_queued is not None:
    st.caption(t("mail_system.oldest", when=t.datetime(outbox.oldest_queued)))
st.markdown(f"**{t('mail_system.latest_failures')}**")
if outbox.latest_failures:
    st.dataframe(
        [{t("mail_system.id"): r.id, t("mail_system.created"): t.datetime(r.created_at),
          t("mail_system.kind"): t(f"mail.{r.kind}.label") if t.has(f"mail.{r.kind}.label") else r.kind,
          t("mail_system.to"): r.to_address,
          t("mail_system.status"): t(f"mail_system.{r.status}"), t("mail_system.attempts"): r.attempts,
          t("mail_system.next_attempt"): t.datetime(r.next_attempt_at) if r.status == "queued" else "—",
          t("mail_system.error"): r.last_error} for r in outbox.latest_failures],
        hide_index=True,
    )
else:
    st.caption(t("mail_system.no_failures"))
st.caption(t("mail_system.hint"))

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

"""Rendering helpers the course pages share (no rules, no SQL)."""

from __future__ import annotations

import pandas as pd

from facilities.services import courses
from facilities.services.courses import Session
from kernel.errors import ManabiError
from kernel.ui import PageContext, flash, md_escape

STATE_COLOURS = {"open": "green", "not_yet": "orange", "closed": "gray", "cancelled": "red"}
STATE_KEYS = {"open": "courses.list.state_open", "not_yet": "courses.list.state_not_yet",
              "closed": "courses.list.state_closed", "cancelled": "courses.list.state_cancelled"}
STATUS_KEYS = {"registered": "courses.mine.status_registered", "waitlisted": "courses.mine.status_waitlisted",
               "cancelled": "courses.mine.status_cancelled"}


def state_badge(t, state: str) -> str:
    return f":{STATE_COLOURS[state]}-badge[{t(STATE_KEYS[state])}]"


def when(t, session: Session) -> str:
    return f"{t.date(session.starts_at.date(), 'full' if t.lang == 'ja' else 'medium')} " \
           f"{t.time(session.starts_at)}–{t.time(session.ends_at)}"


def how(t, session: Session) -> str:
    if session.online and session.room_id is not None:
        return t("courses.session.hybrid")
    return t("courses.session.online_only") if session.online else t("courses.session.in_room")


def sessions_frame(t, sessions) -> pd.DataFrame:
    return pd.DataFrame([
        {t("courses.session.when"): when(t, s), t("courses.session.place"): s.place(t.lang) or "—",
         t("courses.session.how"): how(t, s)}
        for s in sessions if s.status == "planned"
    ])


def session_line(t, session: Session) -> str:
    """One session in words: **when** · place · format (online only: just the format)."""
    place = session.place(t.lang)
    return f"**{when(t, session)}** · " + (f"{md_escape(place)} · {how(t, session)}" if place else how(t, session))


def sessions_markdown(t, sessions) -> str:
    """The sessions as a short list: easier to read than a grid for a handful of dates."""
    icons = {True: ":material/videocam:", False: ":material/meeting_room:"}
    return "\n".join(f"- {icons[s.online]} {session_line(t, s)}" for s in sessions if s.status == "planned")


def cancel_clicked(ctx: PageContext, course_id: int) -> None:
    """A participant's "cancel" button: the seat goes to the waiting list's next in line."""
    try:
        courses.cancel_registration(ctx.store, ctx.clock, ctx.actor, course_id)
    except ManabiError as exc:
        flash(ctx.t.error(exc), "error")
        return
    flash(ctx.t("courses.list.cancelled_done"), "info")

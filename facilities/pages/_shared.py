"""Small rendering helpers the booking and course pages share (no rules, no SQL)."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from facilities.services import booking, courses, lottery, vacancy
from facilities.services.courses import Session
from kernel.errors import ManabiError
from kernel.ui import PageContext, action, flash, md_escape

PAGES = Path(__file__).resolve().parent
MARKS = {vacancy.FREE: "○", vacancy.TAKEN: "×", vacancy.CLOSED: "休", vacancy.LOTTERY: "抽", vacancy.PAST: "－",
         vacancy.NOT_YET: "／", vacancy.LIMIT: "／"}
MARKS_EN = {**MARKS, vacancy.CLOSED: "C", vacancy.LOTTERY: "L"}
COLOURS = {vacancy.FREE: "#d8f3dc", vacancy.TAKEN: "#f8d7da", vacancy.CLOSED: "#e9ecef",
           vacancy.LOTTERY: "#fff3bf", vacancy.PAST: "#f8f9fa", vacancy.NOT_YET: "#f1f3f5", vacancy.LIMIT: "#f1f3f5"}
_A_MONDAY = date(2024, 1, 1)


def page_path(name: str) -> str:
    return str(PAGES / name)


def months_from(today: date, count: int) -> list[str]:
    first = today.replace(day=1)
    out = []
    for _ in range(count):
        out.append(f"{first:%Y-%m}")
        first = (first + timedelta(days=32)).replace(day=1)
    return out


def month_label(t, month: str) -> str:
    return t.month(date.fromisoformat(month + "-01"))


def weekday_name(t, iso_weekday: int) -> str:
    """1 (Monday) … 7 (Sunday) as the locale writes it short: 月, Mon."""
    return t.weekday(_A_MONDAY + timedelta(days=iso_weekday - 1))


def block_label(t, facility, code: str) -> str:
    return f"{t('block.' + code)} {facility.block(code).label()}"


def facility_facts(t, facility) -> str:
    weekdays = ("、" if t.lang == "ja" else ", ").join(weekday_name(t, d) for d in facility.closed_weekdays)
    blocks = " / ".join(block_label(t, facility, b.code) for b in facility.blocks)
    closed = t("vacancy.closed_weekdays", days=weekdays) if facility.closed_weekdays else t("vacancy.open_every_day")
    return f"{md_escape(facility.address_ja)} · {closed} · {blocks}"


def marks(lang: str) -> dict[str, str]:
    return MARKS if lang == "ja" else MARKS_EN


def legend(t) -> str:
    return " ".join(f"{marks(t.lang)[s]} {t(f'vacancy.state_{s}')}" for s in vacancy.STATES)


def day_label(t, day: date) -> str:
    """A day with its weekday, as Japanese reservation sites write it: 2026/12/08（火）."""
    if t.lang == "ja":
        return f"{t.date(day)}（{t.weekday(day)}）"
    return t.date(day, "EEE, MMM d, y")


def reason_text(t, message) -> str:
    """A service's reason (a kernel.errors.Message) in the visitor's words, dates formatted."""
    return t(message.key, **{k: t.value(v) for k, v in message.params.items()})


def book_href(t, room_id: int, day: date, block: str) -> str:
    """The booking form's address with facility, room, day and block filled in (book.py reads it)."""
    query = {"room": room_id, "day": day.isoformat(), "block": block}
    if t.lang != "ja":
        query["lang"] = t.lang
    return "facilities-book?" + urlencode(query)


# The month as an HTML table: each ○ is a real link (keyboard, screen readers, a phone's tap);
# the table scrolls sideways inside its box with the room column kept in view.
_GRID_CSS = """<style>
.mnb-grid{overflow-x:auto;max-width:100%;border:1px solid #dee2e6;border-radius:6px}
.mnb-grid table{border-collapse:separate;border-spacing:0;font-size:.85rem;width:100%}
.mnb-grid th,.mnb-grid td{border-bottom:1px solid #dee2e6;border-right:1px solid #eef0f2;text-align:center;
 padding:.25rem 0;min-width:1.55rem;line-height:1.3}
.mnb-grid thead th{background:#f8f9fa;font-weight:600;position:sticky;top:0}
.mnb-grid th.mnb-room{position:sticky;left:0;z-index:2;background:#fff;text-align:left;padding:.25rem .5rem;
 min-width:6.5rem;max-width:10rem;white-space:normal;font-weight:500;box-shadow:2px 0 0 #dee2e6}
.mnb-grid thead th.mnb-room{background:#f8f9fa;z-index:3}
.mnb-grid .mnb-sat{color:#0b5394}.mnb-grid .mnb-sun{color:#b3261e}
.mnb-grid td a{display:block;line-height:1.6rem;min-width:1.55rem;color:#14532d;font-weight:700;text-decoration:none;border-radius:4px}
.mnb-grid td a:hover,.mnb-grid td a:focus{background:#14532d;color:#fff;outline:2px solid #14532d}
COLOURS
</style>"""


def grid_html(t, days, rows, link, label: str) -> str:
    """A month as HTML: `rows` are (name, room_id, block, {day: state}, {day: reason or None}),
    a column per day. `link(room_id, day, block)` gives the address a free cell leads to, or
    None to leave it a mark; a cell's reason (a Message), when given, is its tooltip."""
    colours = "".join(f".mnb-grid td.mnb-{s}{{background:{c}}}" for s, c in COLOURS.items())
    head = [f'<th scope="col" class="mnb-room">{escape(t("vacancy.room"))}</th>']
    for d in days:
        weekend = {5: " mnb-sat", 6: " mnb-sun"}.get(d.weekday(), "")
        head.append(f'<th scope="col" class="mnb-day{weekend}" title="{escape(day_label(t, d))}">'
                    f"{d.day}<br>{escape(t.weekday(d))}</th>")
    body = []
    for name, room_id, block, states, reasons in rows:
        cells = [f'<th scope="row" class="mnb-room">{escape(name)}</th>']
        for day in days:
            state = states[day]
            reason = (reasons or {}).get(day)
            said = f"{day_label(t, day)} {name}: {t(f'vacancy.state_{state}')}"
            if reason is not None:
                said += " — " + reason_text(t, reason)
            mark = escape(marks(t.lang)[state])
            href = link(room_id, day, block) if state == vacancy.FREE else None
            if href:
                said += " — " + t("vacancy.go_book")
                mark = f'<a href="{escape(href)}" target="_self" aria-label="{escape(said)}">{mark}</a>'
            cells.append(f'<td class="mnb-{state}" title="{escape(said)}">{mark}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (_GRID_CSS.replace("COLOURS", colours) + f'<div class="mnb-grid" role="region" aria-label="{escape(label)}" tabindex="0">'
            f"<table><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def facility_rows(t, grid) -> list:
    """The rows of `grid_html` for a facility's public month grid."""
    rooms = {r.id: r for r in grid.facility.rooms}
    return [(f"{rooms[room_id].name(t.lang)} · {t('block.' + block)}", room_id, block, row, None)
            for (room_id, block), row in grid.states.items()]


def rooms_frame(ctx, facility, equipment) -> list[dict]:
    t, lang = ctx.t, ctx.lang
    rows = []
    for room in facility.rooms:
        fees = []
        for block in facility.blocks:
            try:
                fees.append(booking.quote(ctx.store, ctx.actor, room.id, block.code, party="group").total_yen)
            except ManabiError:  # a missing fee shows as a dash
                fees.append(None)
        known = [f for f in fees if f is not None]
        rows.append({
            t("vacancy.room"): room.name(lang),
            t("vacancy.capacity"): room.capacity,
            t("vacancy.equipment"): "、".join(equipment[e].name(lang) for e in room.equipment if e in equipment) or "—",
            t("vacancy.accessible"): "♿" if room.accessible else "—",
            t("vacancy.fee_from"): t.money(min(known)) if known else "—",
        })
    return rows


def lottery_month(ctx, key: str):
    """Pick one of the lottery months (the page stops when there is none) and show its schedule."""
    t = ctx.t
    months = lottery.list_months(ctx.store)
    if not months:
        st.info(t("lottery_page.none"))
        st.stop()
    by_month = {m.month: m for m in months}
    month = st.selectbox(t("lottery_page.month"), list(by_month), format_func=lambda m: month_label(t, m), key=key)
    chosen = by_month[month]
    st.markdown(t("lottery_page.schedule", start=t.date(chosen.apply_from), end=t.date(chosen.apply_until),
                  draw=t.date(chosen.draw_on), confirm=t.date(chosen.confirm_by), open=t.date(chosen.open_on),
                  max=chosen.max_choices))
    return chosen


def cancel_booking(ctx, actor, booking_id: int) -> None:
    """Cancel a booking (the service decides the refund); say the refund on the next run, or why not."""
    with action(ctx) as outcome:
        done = booking.cancel(ctx.store, ctx.clock, actor, booking_id)
        outcome.done(ctx.t("my.cancelled", refund=ctx.t.money(done.refund_yen)))


# --------------------------------------------------------------------------- courses

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

"""Small rendering helpers the booking pages share (no rules, no SQL)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

from facilities.services import booking, lottery, vacancy
from kernel.errors import ManabiError
from kernel.ui import flash, md_escape, show_error

PAGES = Path(__file__).resolve().parent
MARKS = {vacancy.FREE: "○", vacancy.TAKEN: "×", vacancy.CLOSED: "休", vacancy.LOTTERY: "抽", vacancy.PAST: "－"}
MARKS_EN = {**MARKS, vacancy.CLOSED: "C", vacancy.LOTTERY: "L"}
COLOURS = {vacancy.FREE: "#d8f3dc", vacancy.TAKEN: "#f8d7da", vacancy.CLOSED: "#e9ecef",
           vacancy.LOTTERY: "#fff3bf", vacancy.PAST: "#f8f9fa"}
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


def grid_frame(t, grid, lang: str):
    """The month grid as a styled table (a row per room and block, a column per day) and
    the column settings that keep the day columns narrow."""
    # "1月" and "1 Tue": a weekday written out, never a letter two days share.
    columns = [f"{d.day}{t.weekday(d)}" if lang == "ja" else f"{d.day} {t.weekday(d)}" for d in grid.days]
    rooms = {r.id: r for r in grid.facility.rooms}
    index, rows, states = [], [], []
    for (room_id, block), row in grid.states.items():
        index.append(f"{rooms[room_id].name(lang)} · {t('block.' + block)}")
        rows.append([marks(lang)[s] for s in row.values()])
        states.append(list(row.values()))
    frame = pd.DataFrame(rows, index=index, columns=columns)
    colours = pd.DataFrame([[f"background-color: {COLOURS[s]}; text-align: center" for s in r] for r in states],
                           index=index, columns=columns)
    width = 40 if lang == "ja" else 58  # "12 Wed" whole
    return frame.style.apply(lambda _: colours, axis=None), {c: st.column_config.TextColumn(width=width) for c in columns}


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
    try:
        done = booking.cancel(ctx.store, ctx.clock, actor, booking_id)
    except ManabiError as exc:
        show_error(ctx, exc)
    else:
        flash(ctx.t("my.cancelled", refund=ctx.t.money(done.refund_yen)))
        st.rerun()

"""What every page needs from the shell, without importing the portal.

The portal's shell (portal/ui/shell.py) builds a PageContext on every run and hands
it over with `set_context`; a page asks for it with `page_context()` and gets the
store, the clock, the actor and a translator for the visitor's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import altair as alt
import streamlit as st

from kernel.actor import Actor
from kernel.charts import localized
from kernel.clock import Clock
from kernel.errors import ImportRejected, ManabiError, PermissionDenied
from kernel.i18n import Translator
from kernel.store import Store

_KEY = "_manabi_page_context"


@dataclass(frozen=True)
class PageContext:
    store: Store
    clock: Clock
    actor: Actor
    t: Translator

    @property
    def lang(self) -> str:
        return self.t.lang


def set_context(ctx: PageContext) -> None:
    st.session_state[_KEY] = ctx


def page_context(*roles: str) -> PageContext:
    """The context for this page; with `roles`, stop unless the visitor holds one."""
    ctx: PageContext = st.session_state[_KEY]
    if roles:
        try:
            ctx.actor.require(*roles)
        except PermissionDenied as exc:
            st.error(ctx.t.error(exc))
            st.stop()
    return ctx


def show_chart(ctx: PageContext, chart: alt.TopLevelMixin, **options) -> None:
    """An Altair chart in the page's language (dates, numbers) with colour-blind-safe colours;
    every page shows its charts through here, never with st.altair_chart directly."""
    options.setdefault("width", "stretch")
    st.altair_chart(localized(chart, ctx.lang), **options)


def show_error(ctx: PageContext, exc: ManabiError) -> None:
    """An error as the visitor reads it; an import's bad rows as a table under it."""
    st.error(ctx.t.error(exc), icon=":material/error:")
    if isinstance(exc, ImportRejected):
        st.dataframe(
            [{ctx.t("ui.row"): p.row, ctx.t("ui.reason"): ctx.t(p.key, **p.params)} for p in exc.problems],
            hide_index=True,
        )


class Outcome:
    """What an action says when it is done; the block may set it once it knows (a due date)."""

    def __init__(self, message: str | None) -> None:
        self.message = message

    def done(self, message: str) -> None:
        self.message = message


@contextmanager
def action(ctx: PageContext, done: str | None = None, *, rerun: bool = True, stop: bool = False
           ) -> Iterator[Outcome]:
    """A page's action on a service, the one way every page runs one:

        with action(ctx, done=t("account.password_changed")):
            accounts.change_own_password(...)

    Refused (ManabiError): the reason is shown in words and the page goes on (or stops, with
    `stop`); what the visitor chose stays chosen. Done: `done` (or what the block gave
    `outcome.done`) is shown, across a rerun so the page shows the new state (`rerun`), else
    at once."""
    outcome = Outcome(done)
    try:
        yield outcome
    except ManabiError as exc:
        show_error(ctx, exc)
        if stop:
            st.stop()
        return
    if rerun:
        if outcome.message:
            flash(outcome.message)
        st.rerun()
    elif outcome.message:
        st.success(outcome.message)


# Marks that Markdown (with Streamlit's extras: `:emoji:`, `:red[..]`, `$math$`, `~~strike~~`)
# reads as syntax anywhere in a line; CommonMark lets a backslash escape each.
_INLINE_SYNTAX = re.compile(r"([\\`*_{}\[\]()!|<>~$:&])")
_AUTOLINK = re.compile(r"(?i)\bhttps?(?=\\?:)|\bwww(?=\.)|@")
WORD_JOINER = "\u2060"
# Marks that only open a block at the start of a line (heading, list, setext underline, 1.).
_BLOCK_START = re.compile(r"^([#+=-]|\d+(?=[.)]))")


def md_escape(text: object) -> str:
    """User text (a title, a name, a description) to embed in Markdown so that it shows
    literally: no image fetched from elsewhere, no link, no formatting. Line breaks stay
    line breaks, and no line can open a block (heading, list, quote, code)."""
    if text is None:
        return ""
    lines = []
    for line in str(text).splitlines():
        line = _INLINE_SYNTAX.sub(r"\\\1", line.strip())
        # Streamlit's GFM links bare addresses in the text after parsing, so escapes do not
        # stop it: an invisible word joiner breaks "http://", "www." and "name@host" instead.
        line = _AUTOLINK.sub(lambda m: m.group(0) + WORD_JOINER, line)
        match = _BLOCK_START.match(line)
        if match:
            end = match.end()
            # "1." keeps its digits and escapes the dot; "#", "-", "+", "=" get the backslash.
            line = line[:end] + "\\" + line[end:] if match.group(1)[0].isdigit() else "\\" + line
        if line:
            lines.append(line)
    return "  \n".join(lines)


def flash(message: str, kind: str = "success") -> None:
    """A message shown once on the next run (after st.rerun or a page switch)."""
    st.session_state.setdefault("_manabi_flash", []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop("_manabi_flash", []):
        getattr(st, kind)(message)

"""What every page needs from the shell, without importing the portal.

The portal's shell (portal/ui/shell.py) builds a PageContext on every run and hands
it over with `set_context`; a page asks for it with `page_context()` and gets the
store, the clock, the actor and a translator for the visitor's language.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from kernel.actor import Actor
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


def show_error(ctx: PageContext, exc: ManabiError) -> None:
    """An error as the visitor reads it; an import's bad rows as a table under it."""
    st.error(ctx.t.error(exc), icon=":material/error:")
    if isinstance(exc, ImportRejected):
        st.dataframe(
            [{ctx.t("ui.row"): p.row, ctx.t("ui.reason"): ctx.t(p.key, **p.params)} for p in exc.problems],
            hide_index=True,
        )


def flash(message: str, kind: str = "success") -> None:
    """A message shown once on the next run (after st.rerun or a page switch)."""
    st.session_state.setdefault("_manabi_flash", []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop("_manabi_flash", []):
        getattr(st, kind)(message)

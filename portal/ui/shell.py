"""The frame around every page: language, who is signed in, navigation by role.

Runs on every Streamlit rerun. It resumes the visitor's session (ending it after
30 idle minutes), builds the navigation from the pages each module offers that the
visitor's roles allow, hands pages their context and runs the open page.
"""

from __future__ import annotations

import re
from functools import partial

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile

from kernel import municipality
from kernel.actor import ANONYMOUS, Actor
from kernel.errors import ManabiError
from kernel.i18n import DEFAULT_LANGUAGE, LANGUAGES
from kernel.module import ANONYMOUS_ONLY, GROUPS, PageSpec
from kernel.ui import PageContext, flash, md_escape, set_context, show_flashes
from portal import session_cookie, webfonts
from portal.modules import all_modules
from portal.runtime import Runtime, open_runtime
from portal.services import accounts

_TOKEN = "_manabi_session_token"
_COOKIE_CODE = "_manabi_cookie_code"
_FORGET_COOKIE = "_manabi_forget_cookie"
_COOKIE_IGNORED = "_manabi_cookie_ignored"
NAV_PAGES = "_manabi_nav_pages"
_LANG = "lang"
_PAGES = __import__("pathlib").Path(__file__).resolve().parent.parent / "pages"
_FAVICON = _PAGES.parent.parent / "web" / "favicon.png"


def _web_font() -> None:
    """The Japanese web font's @font-face rules, served by this server (portal/webfonts.py);
    the theme (`manabi serve`) names the family after Streamlit's own Latin font."""
    url = webfonts.stylesheet_url()
    if url:
        st.html(f"<style>@import url('{url}');</style>")


def _language() -> str:
    if _LANG not in st.session_state:
        asked = st.query_params.get("lang", DEFAULT_LANGUAGE)
        st.session_state[_LANG] = asked if asked in LANGUAGES else DEFAULT_LANGUAGE
    return st.session_state[_LANG]


def _language_changed() -> None:
    """Streamlit keeps a keyed choice (a class, a grade, a room) across the switch, but the
    browser goes on showing its label in the old language. Writing each value back makes it
    send the label again. Not for what cannot be written (buttons, uploads, a table's
    selection: True/False, files, dicts) nor an empty choice (None, labelled by the page)."""
    for key in list(st.session_state.keys()):
        value = st.session_state[key]
        if key == _LANG or value is None or isinstance(value, (bool, dict, UploadedFile)):
            continue
        if isinstance(value, list) and any(isinstance(item, UploadedFile) for item in value):
            continue
        st.session_state[key] = value


def sign_in(actor: Actor, runtime: Runtime) -> None:
    """Start a session for an authenticated actor (password or identity provider);
    the next run asks the browser to keep it in a cookie (portal/session_cookie.py)."""
    token = accounts.start_session(runtime.store, runtime.clock, actor.user_id)
    st.session_state[_TOKEN] = token
    st.session_state[_COOKIE_CODE] = session_cookie.code_for(token)


def sign_out(runtime: Runtime, reason: str = "sign_out") -> None:
    token = st.session_state.pop(_TOKEN, None)
    if token:
        accounts.end_session(runtime.store, runtime.clock, token, reason)
    st.session_state[_FORGET_COOKIE] = True
    # This session's handshake still carries the old cookie: never resume from it again.
    st.session_state[_COOKIE_IGNORED] = True


def _cookie_requests() -> None:
    """Same-origin image requests that set or clear the session cookie."""
    code = st.session_state.pop(_COOKIE_CODE, None)
    if code:
        st.html(f'<img src="/auth/remember?code={code}" alt="" width="1" height="1">')
    if st.session_state.pop(_FORGET_COOKIE, False):
        st.html('<img src="/auth/forget" alt="" width="1" height="1">')


def _sign_out_clicked(runtime: Runtime, message: str) -> None:
    sign_out(runtime)
    flash(message, "info")
    if runtime.settings.oidc and st.user.get("is_logged_in"):
        st.logout()


def _current_actor(runtime: Runtime, t) -> Actor:
    token = st.session_state.get(_TOKEN)
    if not token and not st.session_state.get(_COOKIE_IGNORED):
        # A reload starts a new Streamlit session: resume from the cookie, if any.
        cookie = st.context.cookies.get(session_cookie.COOKIE)
        token = cookie if isinstance(cookie, str) else None  # AppTest has no real cookies
        if token:
            st.session_state[_TOKEN] = token
            st.session_state[_COOKIE_IGNORED] = True  # tried once; a dead one is not retried
    if token:
        try:
            return accounts.resume_session(runtime.store, runtime.clock, token)
        except ManabiError as exc:
            st.session_state.pop(_TOKEN, None)
            st.session_state[_FORGET_COOKIE] = True
            flash(t.error(exc), "warning")
            return ANONYMOUS
    # Signed in through the school's identity provider (st.login): map the e-mail once.
    user = getattr(st, "user", None)
    if runtime.settings.oidc and user is not None and user.get("is_logged_in"):
        try:
            actor = accounts.actor_for_email(runtime.store, runtime.clock, str(user.get("email", "")))
        except ManabiError as exc:
            flash(t.error(exc), "error")
            st.logout()
            return ANONYMOUS
        sign_in(actor, runtime)
        return actor
    return ANONYMOUS


def _sidebar(runtime: Runtime, actor: Actor, t) -> None:
    with st.sidebar:
        # Whose portal this is (shared hosting serves many municipalities' side by side).
        st.caption(t("shell.city", city=municipality.city_name(t.lang)))
        st.segmented_control(
            t("shell.language"),
            LANGUAGES,
            format_func=lambda code: {"ja": "日本語", "en": "English"}[code],
            key=_LANG,
            selection_mode="single",
            on_change=_language_changed,
        )
        if actor.signed_in:
            st.caption(t("shell.signed_in_as", name=md_escape(actor.display_name)))
            st.caption(" · ".join(t(f"role.{r}") for r in sorted(actor.roles)))
            st.button(t("shell.sign_out"), key="shell_sign_out", icon=":material/logout:",
                      on_click=_sign_out_clicked, args=(runtime, t("shell.signed_out")))


_PAGE_PATH = re.compile(r"[a-z0-9][a-z0-9-]{0,60}")


def _asked_page() -> str:
    """The url path the visitor's address asks for ("" for the home page)."""
    ctx = get_script_run_ctx()
    return (ctx.pages_manager.intended_page_name or "") if ctx else ""


def _refused(t, actor: Actor, path: str, spec: PageSpec | None) -> None:
    """What a visitor sees at the address of a page not theirs: why, and where to go."""
    if spec is None:
        st.title(t("shell.not_found_title"))
        st.warning(t("shell.not_found", path=path), icon=":material/search_off:")
    else:
        title = t(spec.title_key)
        st.title(title)
        if spec.roles == ANONYMOUS_ONLY:
            st.info(t("shell.refused_signed_in", page=title), icon=":material/info:")
        elif not actor.signed_in:
            st.warning(t("shell.refused_sign_in", page=title), icon=":material/login:")
            st.page_link(_PAGES / "sign_in.py", label=t("nav.sign_in"), icon=":material/login:")
        else:
            st.warning(t("shell.refused_role", page=title,
                         roles=t("shell.role_separator").join(t(f"role.{r}") for r in sorted(spec.roles)),
                         yours=t("shell.role_separator").join(t(f"role.{r}") for r in sorted(actor.roles))),
                       icon=":material/lock:")
    home = next((p for pages in st.session_state[NAV_PAGES].values() for p in pages if p.url_path == ""), None)
    if home is not None:
        st.page_link(home, label=t("shell.go_home"), icon=":material/home:")


def _refusal_page(t, actor: Actor, offered: set[str]) -> st.Page | None:
    """A hidden page at an address the visitor may not open (or that does not exist), saying
    why. Without it Streamlit runs the home page with an English "Page not found" box, or none."""
    asked = _asked_page()
    if not asked or not _PAGE_PATH.fullmatch(asked) or asked == "sign-in":
        return None
    if asked in offered:  # the visitor's own page (the home page's address too: its st.Page says "")
        return None
    spec = next((p for m in all_modules() for p in m.pages if p.url_path == asked), None)
    title = t(spec.title_key) if spec else t("shell.not_found_title")
    return st.Page(partial(_refused, t, actor, asked, spec), title=title, url_path=asked,
                   icon=":material/block:", visibility="hidden")


def run() -> None:
    # The city's name from its settings: on shared hosting, each municipality's own. The tab's
    # icon is our own file: a Material icon name would be fetched from a font host.
    st.set_page_config(page_title=f"学び Manabi — {municipality.city_name('ja')}", page_icon=str(_FAVICON),
                       layout="wide")
    _web_font()
    runtime = open_runtime()
    lang = _language()
    if st.session_state.get(_LANG) is None:  # the segmented control was cleared
        st.session_state[_LANG] = DEFAULT_LANGUAGE
        lang = DEFAULT_LANGUAGE
    # Keep the language in the address, so a reload or a shared link keeps it too.
    if st.query_params.get("lang") != (None if lang == DEFAULT_LANGUAGE else lang):
        if lang == DEFAULT_LANGUAGE:
            del st.query_params["lang"]
        else:
            st.query_params["lang"] = lang
    t = runtime.translator(lang)
    actor = _current_actor(runtime, t)
    set_context(PageContext(runtime.store, runtime.clock, actor, t))

    sections: dict[str, list] = {g: [] for g in GROUPS}
    offered: set[str] = set()
    for spec in all_modules():
        for page in spec.pages:
            if page.allows(frozenset(actor.roles), actor.signed_in):
                offered.add(page.url_path)
                sections[page.group].append(
                    st.Page(page.script, title=t(page.title_key), url_path=page.url_path,
                            icon=page.icon, default=page.default,
                            visibility="visible" if page.visible else "hidden")
                )
    if not actor.signed_in:
        sections["home"].append(
            st.Page(_PAGES / "sign_in.py", title=t("nav.sign_in"), url_path="sign-in", icon=":material/login:")
        )
    # The home page links to what this visitor may open, group by group.
    st.session_state[NAV_PAGES] = sections
    navigation = {t(f"group.{g}"): pages for g, pages in sections.items() if pages}
    refusal = _refusal_page(t, actor, offered)
    if refusal is not None:
        navigation[t("group.home")] = [*navigation.get(t("group.home"), []), refusal]
    page = st.navigation(navigation, position="sidebar", expanded=True)
    _sidebar(runtime, actor, t)
    show_flashes()
    _cookie_requests()
    page.run()

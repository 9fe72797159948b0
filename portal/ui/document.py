"""The HTML document Streamlit serves for every page, made ours before it leaves the server.

Streamlit's index.html says `<html lang="en">` and its own widgets speak English ("Upload",
"200MB per file", "Press Enter to submit form"), whatever the page's language. Streamlit 1.67
has no setting for either, so this middleware (an ASGI middleware of `st.App`) sets `lang`
from the address (`?lang=en`; Japanese without it, as the shell keeps it) and adds one small
script (browser.js) that keeps `lang` in step when the visitor switches language and words
Streamlit's own texts in Japanese on Japanese pages, from the catalogue's `streamlit.*` keys
(portal/messages_streamlit.toml: `en` is Streamlit's own text, `ja` ours).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs

from kernel.i18n import DEFAULT_LANGUAGE, LANGUAGES, load_catalogue

_SCRIPT = Path(__file__).resolve().parent / "browser.js"
_TEXTS = Path(__file__).resolve().parent.parent / "messages_streamlit.toml"
_HTML_TAG = re.compile(rb"<html\b[^>]*>")
PREFIX = "streamlit."


def page_language(query_string: bytes) -> str:
    asked = parse_qs(query_string.decode("latin-1")).get("lang", [DEFAULT_LANGUAGE])[0]
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE


@cache
def streamlit_texts() -> list[dict[str, str]]:
    """Streamlit's own texts and ours in their place: [{"en": ..., "ja": ...}], in file order."""
    return list(load_catalogue([_TEXTS]).values())


@cache
def _script_tag() -> bytes:
    table = json.dumps(streamlit_texts(), ensure_ascii=False)
    # Inside <script>, "</" could end the element early; JSON reads "<\/" the same.
    body = _SCRIPT.read_text(encoding="utf-8").replace("__MANABI_TEXTS__", table.replace("</", "<\\/"))
    return f"<script>{body}</script>".encode()


# Streamlit greys captions with opacity 0.6: 3.7:1 on white, under WCAG AA's 4.5:1. The text
# colour at 80 % reads at 6.7:1 (5.9:1 on the sidebar's grey). Dark theme's captions pass as they are.
_STYLE = (b"<style>@media (prefers-color-scheme: light) {"
          b' [data-testid="stApp"] [data-testid="stCaptionContainer"] { opacity: 1; color: rgba(49, 51, 63, 0.8); } }'
          # A focus that can be seen (WCAG 2.4.7): Streamlit 1.67 draws none on its navigation links,
          # page links, element toolbars, radio options or the main area (which takes the focus for
          # scrolling). The ring is drawn in the text's own colour, so it reads on any theme.
          b' [data-testid="stSidebarNavLink"]:focus-visible, [data-testid="stPageLink-NavLink"]:focus-visible,'
          b' [data-testid="stBaseButton-elementToolbar"]:focus-visible,'
          b' [data-testid="stRadio"] label:has(input:focus-visible),'
          b' [data-testid="stCheckbox"] label:has(input:focus-visible)'
          b' { outline: 2px solid currentColor !important; outline-offset: 2px; border-radius: 4px; }'
          b' [data-testid="stMain"]:focus-visible { outline: 2px solid currentColor !important; outline-offset: -4px; }'
          # A table's toolbar shows on hover only: its buttons took the keyboard's focus unseen. A
          # table (a canvas) takes the focus with no mark until a cell is chosen: its frame is marked.
          b' [data-testid="stElementToolbar"]:focus-within { opacity: 1 !important; }'
          b' [data-testid="stDataFrameResizable"]:focus-within'
          b' { outline: 2px solid rgba(49, 51, 63, 0.8); outline-offset: 2px; }'
          b'</style>')


def rewrite_document(html: bytes, lang: str) -> bytes:
    html = _HTML_TAG.sub(f'<html lang="{lang}">'.encode(), html, count=1)
    return html.replace(b"</head>", _STYLE + _script_tag() + b"</head>", 1)


class DocumentLanguage:
    """Pure ASGI middleware: only HTML answers to page loads are read and rewritten; every
    other answer (routes, assets, the websocket) passes through untouched."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not _wants_html(scope):
            await self.app(scope, receive, send)
            return
        # The document is small: ask for it uncompressed, so that it can be rewritten.
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]}
        lang = page_language(scope.get("query_string", b""))
        start: dict | None = None
        chunks: list[bytes] = []

        async def send_rewritten(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/html") \
                        and b"content-encoding" not in headers:
                    start = message
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = rewrite_document(b"".join(chunks), lang)
            headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_rewritten)


def _wants_html(scope) -> bool:
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
    return b"text/html" in accept

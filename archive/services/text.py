"""Text in and out of the archive: sanitising with nh3, and Japanese-aware search tokens.

Everything a curator or a CSV file supplies goes through `plain()` (no markup at all)
or `rich()` (a few harmless tags, http(s) links only) before it is stored, so that any
page, manifest or export can show it without running a script hidden in it.
"""

from __future__ import annotations

import html
import unicodedata
from functools import cache

import nh3

RICH_TAGS = {"p", "br", "b", "strong", "i", "em", "ul", "ol", "li", "a", "span"}


def plain(value: str | None) -> str | None:
    """Text without any markup (tags and their script contents removed); None stays None."""
    if value is None:
        return None
    text = str(value)
    for _ in range(3):  # until stable: an escaped tag must not come back as a real one
        cleaned = html.unescape(nh3.clean(text, tags=set()))
        if cleaned == text:
            break
        text = cleaned
    text = text.replace("<", "＜").replace(">", "＞") if "<" in text or ">" in text else text
    return text.strip() or None


def rich(value: str | None) -> str | None:
    """A description: a few formatting tags and http(s) links; everything else removed."""
    if value is None or not str(value).strip():
        return None
    return nh3.clean(
        str(value).strip(),
        tags=RICH_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    ).strip() or None


def rich_to_plain(value: str | None) -> str:
    """A description as plain text (for summaries, exports, search)."""
    if not value:
        return ""
    return html.unescape(nh3.clean(value.replace("<br>", "\n").replace("</p>", "\n"), tags=set())).strip()


def normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@cache
def _tagger():
    import fugashi  # MeCab with UniDic (unidic-lite): loading takes a moment, so once

    return fugashi.Tagger()


_SKIP_POS = {"補助記号", "空白", "記号"}
_QUERY_SKIP_POS = _SKIP_POS | {"助詞", "助動詞"}


def tokens(text: str, *, query: bool = False) -> list[str]:
    """Words of `text` as MeCab/UniDic cuts them, NFKC-normalised and lower-cased.
    For a query, particles and auxiliary verbs (の, は, です) are left out."""
    if not text or not text.strip():
        return []
    skip = _QUERY_SKIP_POS if query else _SKIP_POS
    words = []
    for word in _tagger()(normal(text)):
        pos = word.feature.pos1 if word.feature else ""
        if pos in skip or not word.surface.strip():
            continue
        words.append(word.surface)
    return words


def token_field(*texts: str | None) -> str:
    """The padded token string stored for search: ' w1 w2 … ' (each word once)."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in tokens(text or ""):
            seen.setdefault(word, None)
    return " " + " ".join(seen) + " " if seen else " "

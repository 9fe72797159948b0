"""Japanese-aware catalogue search over pre-tokenised terms.

Each title's text is cut into words by fugashi (MeCab with unidic-lite). A word is
indexed as written and by its reading in hiragana, and each title and creator also
by its whole reading, so 草枕, くさまくら and Kusamakura's file-as all find the book.
Terms live in `library_ebooks_terms` with a weight per field (title > creators >
subjects > description); a query scores titles by the weights of the terms it
matches times their rarity (idf). The table is written in the same transaction as
the title, so search never shows a half-imported book (DuckDB's fts index would
need a full rebuild after every import).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable

FIELD_WEIGHTS = {"title": 5.0, "creator": 4.0, "subject": 2.5, "publisher": 1.5, "description": 1.0}
# Parts of speech that carry no meaning for search (particles, auxiliaries, symbols).
_SKIP_POS = {"助詞", "助動詞", "補助記号", "記号", "空白"}
_ENGLISH_STOP = {"a", "an", "and", "the", "of", "or", "to", "in", "on", "for", "by", "with", "is", "at", "as"}
_KATAKANA = re.compile(r"[\u30a1-\u30f6]")
_KANA = re.compile(r"[\u3041-\u30ff]")
_local = threading.local()


def _tagger():
    # MeCab taggers are not safe to share between threads: one per thread.
    tagger = getattr(_local, "tagger", None)
    if tagger is None:
        import fugashi

        tagger = _local.tagger = fugashi.Tagger()
    return tagger


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def hiragana(text: str) -> str:
    return _KATAKANA.sub(lambda m: chr(ord(m.group()) - 0x60), text)


def _words(text: str) -> list[tuple[str, str | None]]:
    """(surface, reading in hiragana) for each meaningful word of `text`."""
    words = []
    for word in _tagger()(normalise(text)):
        surface = word.surface.strip()
        if not surface:
            continue
        feature = word.feature
        pos = getattr(feature, "pos1", None)
        if pos in _SKIP_POS or surface in _ENGLISH_STOP or not any(ch.isalnum() for ch in surface):
            continue
        if len(surface) == 1 and _KANA.match(surface):
            continue  # a lone kana (し, て) is a fragment of a verb, not a word to find books by
        kana = getattr(feature, "kana", None)
        words.append((surface, hiragana(kana).lower() if kana and kana != "*" else None))
    return words


def terms_of(text: str) -> set[str]:
    """The index terms of a piece of text: words as written and their readings."""
    found: set[str] = set()
    for surface, reading in _words(text):
        found.add(surface)
        if reading:
            found.add(reading)
    return found


def whole_reading(text: str) -> str | None:
    """The reading of a whole name or title without spaces (なつめそうせき), for kana queries."""
    readings = [reading or surface for surface, reading in _words(text)]
    joined = "".join(readings)
    return hiragana(joined) if joined else None


def weighted_terms(fields: Iterable[tuple[str, str | None]]) -> dict[str, float]:
    """term -> weight, from (field kind, text) pairs; a term's weight is its best field's."""
    weights: dict[str, float] = {}
    for kind, text in fields:
        if not text:
            continue
        weight = FIELD_WEIGHTS[kind]
        terms = terms_of(text)
        if kind in ("title", "creator"):
            reading = whole_reading(text)
            if reading:
                terms.add(reading)
            compact = normalise(text).replace(" ", "").replace("\u3000", "")
            terms.add(compact)  # the whole name as written: 夏目漱石 finds 夏目 漱石
        for term in terms:
            if term and len(term) <= 64:
                weights[term] = max(weights.get(term, 0.0), weight)
    return weights


def query_terms(query: str) -> list[str]:
    """What a visitor typed, as the terms to look up (words, readings, whole reading)."""
    terms = terms_of(query)
    reading = whole_reading(query)
    if reading:
        terms.add(reading)
    compact = normalise(query).replace(" ", "").replace("\u3000", "")
    if compact:
        terms.add(compact)
    return sorted(t for t in terms if t)


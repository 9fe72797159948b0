"""What the e-book pages share: availability wording, language names, page paths."""

from __future__ import annotations

import re
from pathlib import Path

from babel import Locale

from library_ebooks.services.catalogue import TitleCard

PAGES = Path(__file__).resolve().parent
READER_PAGE = str(PAGES / "reader.py")
MINE_PAGE = str(PAGES / "mine.py")
BOOK_PAGE = str(PAGES / "book.py")
CATALOGUE_PAGE = str(PAGES / "catalogue.py")
READER_LOAN_KEY = "ebooks_reader_loan"  # the loan the reader page opens


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: str | None) -> str:
    """Book metadata comes from uploaded files: shown as text, never as Markdown (no links,
    no images from elsewhere, no formatting tricks)."""
    return _MARKDOWN.sub(r"\\\1", text or "")


def availability_text(t, card: TitleCard) -> str:
    if not card.licensed:
        return t("ebooks.not_licensed")
    if card.unlimited:
        return t("ebooks.unlimited")
    if card.available:
        return t("ebooks.copies_free", free=card.copies - card.on_loan, copies=card.copies)
    return t("ebooks.all_out", waiting=card.holds_waiting + card.offers)


def language_name(t, code: str) -> str:
    primary = code.split("-")[0]
    return Locale.parse(t.locale).languages.get(primary, code)

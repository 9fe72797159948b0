"""The message catalogue (Japanese first, English second) and locale formatting.

Each module keeps its strings in `messages.toml`:

    [home]
    title = { ja = "学び", en = "Manabi" }

which gives the key `home.title`. A test fails when a key lacks either language.
Dates, times, numbers and yen go through Babel in the visitor's locale.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path

from babel import dates as babel_dates
from babel import numbers as babel_numbers

from kernel.clock import TOKYO
from kernel.errors import ManabiError, Message

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
_LOCALES = {"ja": "ja_JP", "en": "en_US"}

Catalogue = dict[str, dict[str, str]]  # key -> {lang: text}


def _flatten(prefix: str, table: dict, into: Catalogue, source: Path) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if not isinstance(value, dict):
            raise ValueError(f"{source}: {key} must be a table of languages, got {value!r}")
        if set(value) & set(LANGUAGES):
            if set(value) - set(LANGUAGES):
                raise ValueError(f"{source}: {key} mixes languages and sub-keys")
            if key in into:
                raise ValueError(f"{source}: {key} is defined twice")
            into[key] = dict(value)
        else:
            _flatten(key, value, into, source)


def load_catalogue(files: Iterable[Path]) -> Catalogue:
    catalogue: Catalogue = {}
    for path in files:
        if path.exists():
            with path.open("rb") as handle:
                _flatten("", tomllib.load(handle), catalogue, path)
    return catalogue


def missing_translations(catalogue: Catalogue) -> list[str]:
    """Keys lacking a non-empty text in some language, as 'key [lang]'."""
    return [
        f"{key} [{lang}]"
        for key, texts in sorted(catalogue.items())
        for lang in LANGUAGES
        if not str(texts.get(lang, "")).strip()
    ]


class Translator:
    """Looks up catalogue texts and formats values for one language."""

    def __init__(self, lang: str, catalogue: Catalogue, *, strict: bool | None = None) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.locale = _LOCALES[self.lang]
        self._catalogue = catalogue
        # Strict (tests): an unknown key is an error, not a silent placeholder.
        self._strict = os.environ.get("MANABI_STRICT_I18N") == "1" if strict is None else strict

    def __call__(self, key: str, **params: object) -> str:
        texts = self._catalogue.get(key)
        if texts is None:
            if self._strict:
                raise KeyError(f"message key not in catalogue: {key}")
            return f"⟦{key}⟧"
        text = texts.get(self.lang) or texts.get(DEFAULT_LANGUAGE, key)
        if not params:
            return text
        # A parameter that is itself a message is worded in this language first.
        return text.format(**{name: self(value.key, **value.params) if isinstance(value, Message) else value
                              for name, value in params.items()})

    def has(self, key: str) -> bool:
        return key in self._catalogue

    def error(self, exc: ManabiError) -> str:
        """The catalogue sentence for an error, its parameters filled in."""
        params = {k: self.value(v) for k, v in exc.params.items()}
        try:
            return self(exc.key, **params)
        except (KeyError, IndexError):
            return self(exc.key)

    def value(self, value: object) -> object:
        if isinstance(value, datetime):
            return self.datetime(value)
        if isinstance(value, date):
            return self.date(value)
        return value

    def date(self, value: date, fmt: str = "medium") -> str:
        return babel_dates.format_date(value, format=fmt, locale=self.locale)

    def month(self, value: date) -> str:
        """A month written out: "2026年12月", "December 2026" (the locale's own order)."""
        return babel_dates.format_skeleton("yMMMM", value, locale=self.locale)

    def weekday(self, value: date) -> str:
        """A weekday short but whole: "月", "Mon" (never a letter that two days share)."""
        return babel_dates.format_date(value, format="EEE", locale=self.locale)

    def datetime(self, value: datetime, fmt: str = "medium") -> str:
        return babel_dates.format_datetime(value, format=fmt, tzinfo=TOKYO, locale=self.locale)

    def time(self, value: time | datetime, fmt: str = "short") -> str:
        return babel_dates.format_time(value, format=fmt, tzinfo=TOKYO if isinstance(value, datetime) else None, locale=self.locale)

    def money(self, yen: int | float) -> str:
        """Yen, tax included, e.g. ￥1,200 (ja) or ¥1,200 (en)."""
        return babel_numbers.format_currency(yen, "JPY", locale=self.locale)

    def number(self, value: int | float, fmt: str | None = None) -> str:
        return babel_numbers.format_decimal(value, format=fmt, locale=self.locale)

    def percent(self, value: float) -> str:
        return babel_numbers.format_percent(value, format="#,##0.0%", locale=self.locale)

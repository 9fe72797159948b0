"""The catalogue: every key in Japanese and English; every key a page uses exists;
dates and yen formatted per locale."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from kernel.clock import TOKYO
from kernel.i18n import Translator, load_catalogue, missing_translations
from portal.modules import all_modules
from portal.runtime import catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_every_key_has_japanese_and_english():
    assert missing_translations(catalogue()) == []


def test_a_missing_language_is_reported(tmp_path):
    broken = tmp_path / "messages.toml"
    broken.write_text('[x]\nonly_ja = { ja = "日本語だけ" }\n', encoding="utf-8")
    assert missing_translations(load_catalogue([broken])) == ["x.only_ja [en]"]


# Literal keys handed to t("…") in code; f-string keys are checked where they are built.
_KEY_CALL = re.compile(r"""\bt\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']\s*[,)]""")


def _python_files():
    for spec in all_modules():
        yield from spec.package_dir.rglob("*.py")
    yield from (ROOT / "kernel").rglob("*.py")


def test_every_key_used_in_code_is_in_the_catalogue():
    known = catalogue()
    used = {(path.relative_to(ROOT), key) for path in _python_files()
            for key in _KEY_CALL.findall(path.read_text(encoding="utf-8"))}
    missing = sorted(f"{path}: {key}" for path, key in used if key not in known)
    assert missing == []


def test_role_and_group_labels_exist_in_both_languages():
    from kernel.actor import ALL_ROLES
    from kernel.module import GROUPS

    for lang in ("ja", "en"):
        t = Translator(lang, catalogue(), strict=True)
        for role in ALL_ROLES:
            assert t(f"role.{role.value}")
        for group in GROUPS:
            assert t(f"group.{group}")


def test_page_titles_exist():
    t = Translator("ja", catalogue(), strict=True)
    for spec in all_modules():
        for page in spec.pages:
            assert t(page.title_key), page.script


def test_unknown_keys_raise_in_strict_mode():
    with pytest.raises(KeyError):
        Translator("ja", catalogue(), strict=True)("no.such.key")


def test_dates_times_and_yen_per_locale():
    ja = Translator("ja", catalogue())
    en = Translator("en", catalogue())
    assert ja.date(date(2026, 11, 27), "long") == "2026年11月27日"
    assert en.date(date(2026, 11, 27), "long") == "November 27, 2026"
    assert ja.money(1200) == "￥1,200"
    assert en.money(1200) == "¥1,200"
    moment = datetime(2026, 11, 27, 18, 30, tzinfo=TOKYO)
    assert ja.time(moment) == "18:30"
    assert en.time(moment).replace("\u202f", " ") == "6:30 PM"


def test_months_and_weekdays_written_out_per_locale():
    ja = Translator("ja", catalogue())
    en = Translator("en", catalogue())
    assert ja.month(date(2026, 12, 1)) == "2026年12月"
    assert en.month(date(2026, 12, 1)) == "December 2026"
    week = [date(2026, 11, 30 + n) if n == 0 else date(2026, 12, n) for n in range(7)]
    assert [ja.weekday(d) for d in week] == list("月火水木金土日")
    assert [en.weekday(d) for d in week] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def test_error_messages_fill_their_parameters():
    from kernel.errors import StoreError

    t = Translator("en", catalogue(), strict=True)
    message = t.error(StoreError("error.schema_too_new", module="portal", db_version=3, code_version=2))
    assert message.startswith("This database was written by a newer Manabi (portal: database 3 > code 2)")

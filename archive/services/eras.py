"""Dates and Japanese eras as year ranges, for sorting and filtering.

`parse_date("明治45年")` → (1912, 1912); `parse_date("大正")` → (1912, 1926);
`parse_date("昭和初期")` → (1926, 1945); `parse_date("1910年代")` → (1910, 1919);
`parse_date("c. 1900")` → (1895, 1905); `parse_date("江戸時代後期")` → (1778, 1868).
Unreadable text gives None, and the caller says so.
"""

from __future__ import annotations

import re
import unicodedata

# Imperial eras (年号) since the Meiji restoration and a few earlier ones that heritage
# records use, with their first and last Gregorian year.
NENGO: dict[str, tuple[int, int]] = {
    "嘉永": (1848, 1854), "安政": (1854, 1860), "万延": (1860, 1861), "文久": (1861, 1864),
    "元治": (1864, 1865), "慶応": (1865, 1868),
    "明治": (1868, 1912), "大正": (1912, 1926), "昭和": (1926, 1989), "平成": (1989, 2019),
    "令和": (2019, 2100),
}
ROMAJI = {"meiji": "明治", "taisho": "大正", "taishō": "大正", "showa": "昭和", "shōwa": "昭和",
          "heisei": "平成", "reiwa": "令和"}

# Historical periods (時代), years before the common era as negative numbers.
PERIODS: dict[str, tuple[int, int]] = {
    "旧石器": (-38000, -14000), "縄文": (-14000, -300), "弥生": (-300, 250), "古墳": (250, 592),
    "飛鳥": (592, 710), "奈良": (710, 794), "平安": (794, 1185), "鎌倉": (1185, 1333),
    "室町": (1336, 1573), "安土桃山": (1573, 1603), "江戸": (1603, 1868),
}
PERIOD_ROMAJI = {"jomon": "縄文", "jōmon": "縄文", "yayoi": "弥生", "kofun": "古墳", "asuka": "飛鳥",
                 "nara": "奈良", "heian": "平安", "kamakura": "鎌倉", "muromachi": "室町",
                 "edo": "江戸"}

# The facets the public pages offer, in time order: catalogue key suffix → years.
ERA_FACETS: tuple[tuple[str, int, int], ...] = (
    ("ancient", -38000, 1184), ("medieval", 1185, 1602), ("edo", 1603, 1867),
    ("meiji", 1868, 1911), ("taisho", 1912, 1925), ("showa", 1926, 1988),
    ("heisei", 1989, 2018), ("reiwa", 2019, 2100),
)

_PARTS = {  # 初期/前期 … 末期: which part of an era or period
    "初期": (0.0, 0.3), "前期": (0.0, 0.34), "中期": (0.33, 0.67), "後期": (0.66, 1.0),
    "末期": (0.8, 1.0), "early": (0.0, 0.34), "mid": (0.33, 0.67), "late": (0.66, 1.0),
}


def _part(span: tuple[int, int], part: str | None) -> tuple[int, int]:
    start, end = span
    if not part:
        return span
    lo, hi = _PARTS[part]
    length = end - start
    return start + round(length * lo), start + round(length * hi)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def parse_date(text: str | None) -> tuple[int, int] | None:
    """The years a date or era covers, or None when the text cannot be read."""
    if text is None or not _normal(text):
        return None
    s = _normal(text).replace("頃", "").replace("ごろ", "").replace("時代", "").strip()
    s = re.sub(r"\s+", " ", s)

    # 1912 / 1912年 / 1912-05-01 / 1912-1926 / 1912〜1926年
    m = re.fullmatch(r"(\d{3,4})(?:年)?(?:[-/.]\d{1,2}(?:[-/.]\d{1,2})?)?(?:\s*[-~〜–]\s*(\d{3,4})年?)?", s)
    if m:
        start = int(m[1])
        end = int(m[2]) if m[2] else start
        return (start, end) if start <= end else None
    # 1910年代 / 1910s
    m = re.fullmatch(r"(\d{3})0(?:年代|s)", s)
    if m:
        return int(m[1]) * 10, int(m[1]) * 10 + 9
    # c. 1900 / ca. 1900 / circa 1900 / 1900年頃 (頃 was removed above)
    m = re.fullmatch(r"(?:c\.|ca\.|circa|about)\s*(\d{3,4})", s)
    if m:
        return int(m[1]) - 5, int(m[1]) + 5
    # 19世紀 / 19th century
    m = re.fullmatch(r"(\d{1,2})(?:世紀|st century|nd century|rd century|th century)", s)
    if m:
        century = int(m[1])
        return (century - 1) * 100 + 1, century * 100

    # Imperial eras: 明治45年, 明治元年, 昭和30年代, 大正, 昭和初期; Meiji 45, early Showa
    for romaji, kanji in ROMAJI.items():
        s = re.sub(rf"\b{romaji}\b(?: era| period)?", kanji, s)
    for romaji, kanji in PERIOD_ROMAJI.items():
        s = re.sub(rf"\b{romaji}\b(?: era| period)?", kanji, s)
    s = re.sub(r"^(early|mid|late)\s*(\S+)$", r"\2\1", s)
    s = s.replace(" ", "")
    for name, (first, last) in NENGO.items():
        if not s.startswith(name):
            continue
        rest = s[len(name):]
        if rest in ("", "年間"):
            return first, last
        if rest in _PARTS:
            return _part((first, last), rest)
        m = re.fullmatch(r"(元|\d{1,2})年?(代)?(?:\d{1,2}月(?:\d{1,2}日)?)?", rest)
        if m:
            year = first + (0 if m[1] == "元" else int(m[1]) - 1)
            if year > last:
                return None  # 大正20年 did not happen
            if m[2]:  # 昭和30年代: 昭和30–39年
                return year, min(year + 9, last)
            return year, year
        return None
    for name, span in PERIODS.items():
        if s.startswith(name):
            rest = s[len(name):]
            if rest == "":
                return span
            if rest in _PARTS:
                return _part(span, rest)
    return None


def era_facet(year_from: int | None, year_to: int | None) -> list[str]:
    """The era facets a year range touches (an item of 1910–1930 is Meiji, Taisho and Showa)."""
    if year_from is None:
        return []
    year_to = year_from if year_to is None else year_to
    return [key for key, lo, hi in ERA_FACETS if year_from <= hi and year_to >= lo]


def era_span(key: str) -> tuple[int, int]:
    for name, lo, hi in ERA_FACETS:
        if name == key:
            return lo, hi
    raise KeyError(key)

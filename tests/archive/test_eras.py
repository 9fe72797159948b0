"""Dates and Japanese eras as year ranges."""

from __future__ import annotations

import pytest

from archive.services.eras import era_facet, parse_date


@pytest.mark.parametrize("text,years", [
    ("明治45年", (1912, 1912)),
    ("明治元年", (1868, 1868)),
    ("令和元年", (2019, 2019)),
    ("大正", (1912, 1926)),
    ("昭和初期", (1926, 1945)),
    ("昭和30年代", (1955, 1964)),
    ("昭和12年5月", (1937, 1937)),
    ("江戸時代後期", (1778, 1868)),
    ("弥生時代", (-300, 250)),
    ("1912", (1912, 1912)),
    ("１９１２年", (1912, 1912)),
    ("1912-1926", (1912, 1926)),
    ("1910年代", (1910, 1919)),
    ("1950s", (1950, 1959)),
    ("c. 1900", (1895, 1905)),
    ("1925年頃", (1925, 1925)),
    ("19世紀", (1801, 1900)),
    ("Meiji 45", (1912, 1912)),
    ("Taisho era", (1912, 1926)),
    ("early Showa", (1926, 1947)),
])
def test_dates_and_eras_become_year_ranges(text, years):
    assert parse_date(text) == years


@pytest.mark.parametrize("text", ["大正20年", "いつか", "1926-1912", "", "   "])
def test_unreadable_or_impossible_dates_give_none(text):
    assert parse_date(text) is None


def test_a_range_touches_every_era_facet_it_overlaps():
    assert era_facet(1910, 1930) == ["meiji", "taisho", "showa"]
    assert era_facet(-300, 250) == ["ancient"]
    assert era_facet(None, None) == []

"""The prefecture's board page: the lake's figures for the board of education's administrator,
computed on the page with DuckDB; a clear word where no lake is set; closed to others."""

from __future__ import annotations

import pytest

from kernel.store import Store
from lake.services import export
from portal.modules import all_modules

PAGE = "../lake/pages/prefecture_board.py"


@pytest.fixture
def exported_lake(fresh_demo_db, clock, tmp_path, monkeypatch):
    all_modules()
    store = Store(fresh_demo_db)
    try:
        export.export(store, clock, tmp_path / "lake")
    finally:
        store.close()
    monkeypatch.setenv("MANABI_LAKE_DIR", str(tmp_path / "lake"))
    return tmp_path / "lake"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_board_computes_and_shows_the_lake_figures(exported_lake, app_for, lang):
    at = app_for(login="admin", page=PAGE, lang=lang)
    assert not at.exception
    assert [i.value for i in at.info] and not at.dataframe  # nothing computed yet: says how
    at.button(key="lake_recompute").click().run()
    assert not at.exception and not at.error
    assert len(at.dataframe) == 3
    board_rows = at.dataframe[0].value
    assert len(board_rows) > 100
    school = "頴田小中学校" if lang == "ja" else "Kaita Compulsory School"
    assert school in set(board_rows.iloc[:, 1])
    assert ("国語" if lang == "ja" else "Japanese") in set(board_rows.iloc[:, 3])  # subjects in the reader's words
    assert (board_rows.iloc[:, 6] >= 5).all()  # pupils: no group under five
    assert (exported_lake / "_results" / "board.json").is_file()
    # Shown again from what was saved, without computing.
    again = app_for(login="admin", page=PAGE, lang=lang)
    assert len(again.dataframe) == 3


def test_without_a_lake_the_page_says_how_to_set_one(app_for, monkeypatch):
    monkeypatch.delenv("MANABI_LAKE_DIR", raising=False)
    at = app_for(login="admin", page=PAGE)
    assert "MANABI_LAKE_DIR" in at.info[0].value and not at.dataframe


@pytest.mark.parametrize("login", ["teacher01", "schooladmin01", "resident01"])
def test_the_page_is_not_offered_to_others(app_for, login):
    at = app_for(login=login)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)

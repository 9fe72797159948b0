"""AppTest: the archive's pages for the public, curators and the city administrator."""

from __future__ import annotations

BROWSE = "../archive/pages/browse.py"
MAP = "../archive/pages/map.py"
CURATE = "../archive/pages/curate.py"
IMPORT = "../archive/pages/import_csv.py"
REPORT = "../archive/pages/report.py"


def titles(at) -> list[str]:
    return [t.value for t in at.title]


def test_public_browse_lists_published_items_only(app_for):
    at = app_for(page=BROWSE)
    assert not at.exception
    assert titles(at) == ["デジタルアーカイブ"]
    shown = " ".join(m.value for m in at.markdown)
    assert "旧伊藤伝右衛門邸 主屋" in shown
    assert "炭鉱住宅の暮らし" not in shown  # a draft
    assert "嘉穂劇場 公演ポスター" not in shown  # in review
    assert "伊藤伝右衛門 書簡" not in shown  # withdrawn

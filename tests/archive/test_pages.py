"""AppTest: the archive's pages for the public, curators and the city administrator."""

from __future__ import annotations

import pytest

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


def by_label(widgets, label):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}: {[w.label for w in widgets]}"
    return found[0]


def demo_id(identifier: str) -> int:
    """The id of a demo item, read through the service as the operator would."""
    from archive.services import reading
    from kernel.actor import SYSTEM
    from portal.runtime import open_runtime

    return next(s.id for s in reading.list_items(open_runtime().store, SYSTEM) if s.identifier == identifier)


def test_public_search_in_japanese_narrows_the_list(app_for):
    at = app_for(page=BROWSE)
    at.text_input(key="archive_query").input("石包丁").run()
    assert not at.exception
    shown = [m.value for m in at.markdown if m.value.startswith("**")]
    # The knife by its title first, then the site whose description mentions the knives.
    assert shown == ["**立岩遺跡出土 石包丁**", "**立岩遺跡**"]


def test_browse_in_english_uses_english_titles(app_for):
    at = app_for(page=BROWSE, lang="en")
    assert not at.exception
    assert titles(at) == ["Digital archive"]
    assert any("Kaho Theatre" in m.value for m in at.markdown)


def test_item_page_shows_the_item_and_counts_a_view(app_for):
    from portal.runtime import open_runtime

    at = app_for(page=BROWSE)
    item_id = demo_id("IZK-DEMO-004")
    store = open_runtime().store
    before = store.scalar("SELECT coalesce(sum(views), 0) FROM archive_views WHERE item_id = ?", [item_id])
    at.query_params["item"] = str(item_id)
    at.run()
    assert not at.exception
    assert [h.value for h in at.header] == ["嘉穂劇場"]
    assert any("/iiif/" in m.value and "manifest" in m.value for m in at.markdown)
    assert any(c.value.endswith(f"?item={item_id}&lang=ja") for c in at.code)  # the address behind the QR code
    after = store.scalar("SELECT coalesce(sum(views), 0) FROM archive_views WHERE item_id = ?", [item_id])
    assert after == before + 1


def test_a_draft_is_not_shown_to_the_public_even_by_its_id(app_for):
    at = app_for(page=BROWSE)
    at.query_params["item"] = str(demo_id("IZK-DEMO-012"))
    at.run()
    assert not at.exception
    assert at.header == [] or "炭鉱住宅" not in " ".join(h.value for h in at.header)
    assert at.error and "見つかりません" in at.error[0].value


def test_a_curator_sees_the_draft_marked_as_not_public(app_for):
    at = app_for(login="curator01", page=BROWSE)
    at.query_params["item"] = str(demo_id("IZK-DEMO-012"))
    at.run()
    assert not at.exception
    assert [h.value for h in at.header] == ["炭鉱住宅の暮らし"]
    assert any("公開されていません" in w.value for w in at.warning)


def test_map_page_lists_published_places(app_for):
    at = app_for(page=MAP)
    assert not at.exception
    assert titles(at) == ["文化財マップ"]
    table = at.dataframe[0].value
    assert "炭鉱住宅の暮らし" not in table.iloc[:, 0].tolist()
    assert "嘉穂劇場" in table.iloc[:, 0].tolist()


def test_staff_pages_are_not_offered_to_the_public_or_residents(app_for):
    for login in (None, "resident01", "teacher01"):
        at = app_for(login=login)
        for page in (CURATE, IMPORT, REPORT):
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page)


def test_curator_desk_lists_every_state(app_for):
    at = app_for(login="curator01", page=CURATE)
    assert not at.exception
    assert titles(at) == ["資料の登録・公開"]
    statuses = set(at.dataframe[0].value.iloc[:, 3])
    assert statuses == {"下書き", "審査中", "公開中", "公開取り下げ"}


def test_the_submitter_cannot_publish_but_the_admin_can(app_for):
    review_id = demo_id("IZK-DEMO-005")  # submitted by curator01
    at = app_for(login="curator01", page=CURATE)
    at.selectbox(key="curate_item").set_value(review_id).run()
    assert not at.exception
    assert "curate_publish" not in [b.key for b in at.button]  # four eyes: not offered
    assert "curate_return" in [b.key for b in at.button]
    assert any("公開は別の学芸員か管理者が行います" in i.value for i in at.info)

    at = app_for(login="admin", page=CURATE)
    at.selectbox(key="curate_status").set_value("review").run()
    at.selectbox(key="curate_item").set_value(review_id).run()
    at.button(key="curate_publish").click().run()
    assert not at.exception
    assert any("公開しました" in s.value for s in at.success)


def test_curator_creates_a_draft_through_the_form(app_for):
    at = app_for(login="curator01", page=CURATE)
    by_label(at.text_input, "識別子").input("IZK-NEW-001")
    by_label(at.text_input, "タイトル（日本語）").input("新しい資料<script>alert(1)</script>")
    by_label(at.text_input, "年代").input("昭和初期")
    at.button(key="FormSubmitter:new_item-保存").click().run()
    assert not at.exception
    assert any("IZK-NEW-001" in s.value for s in at.success)
    assert at.selectbox(key="curate_item").value == demo_id("IZK-NEW-001")
    assert [h.value for h in at.subheader][0] == "IZK-NEW-001 — 新しい資料"


def test_import_page_rejects_a_bad_file_and_names_the_lines(app_for):
    at = app_for(login="curator01", page=IMPORT)
    assert not at.exception
    bad = ("identifier,title_ja,type,rights\n"
           "IZK-P-1,良い行,object,http://creativecommons.org/licenses/by/4.0/\n"
           "IZK-P-2,,vase,http://example.org/\n").encode()
    at.get("file_uploader")[0].upload("items.csv", bad, "text/csv")
    at.button(key="FormSubmitter:archive_import-取り込む").click().run()
    assert not at.exception
    assert "何も保存していません" in at.error[0].value
    problems = at.dataframe[0].value
    assert set(problems.iloc[:, 0]) == {3}


def test_import_page_stores_a_good_file(app_for):
    at = app_for(login="curator01", page=IMPORT)
    good = ("identifier,title_ja,type,rights,set\n"
            "IZK-P-1,良い行,object,http://creativecommons.org/licenses/by/4.0/,tateiwa\n").encode()
    at.get("file_uploader")[0].upload("items.csv", good, "text/csv")
    at.button(key="FormSubmitter:archive_import-取り込む").click().run()
    assert not at.exception
    assert any("1 件の資料を取り込みました" in s.value for s in at.success)


def test_report_page_for_curators_and_admin(app_for):
    for login in ("curator01", "admin"):
        at = app_for(login=login, page=REPORT)
        assert not at.exception
        assert titles(at) == ["閲覧数レポート"]
        assert int(at.metric[0].value.replace(",", "")) > 0


def test_curator_adds_an_image_to_a_draft_and_submits_it(app_for):
    import io

    from PIL import Image

    draft_id = demo_id("IZK-DEMO-012")
    at = app_for(login="curator01", page=CURATE)
    at.selectbox(key="curate_item").set_value(draft_id).run()
    buffer = io.BytesIO()
    Image.new("RGB", (900, 600), "olive").save(buffer, "PNG")
    at.get("file_uploader")[0].upload("miners.png", buffer.getvalue(), "image/png")
    by_label(at.text_input, "ラベル（日本語）").input("炭鉱住宅の写真 2")
    at.button(key=f"FormSubmitter:image_{draft_id}-画像を追加").click().run()
    assert not at.exception
    assert any("保存しました" in s.value for s in at.success)
    assert any("炭鉱住宅の写真 2" in m.value for m in at.markdown)
    at.button(key="curate_submit").click().run()
    assert not at.exception
    assert any("審査へ提出しました" in s.value for s in at.success)
    assert "審査中" in at.caption[0].value or any("審査中" in c.value for c in at.caption)


def test_admin_withdraws_a_published_item(app_for):
    published_id = demo_id("IZK-DEMO-011")
    at = app_for(login="admin", page=CURATE)
    at.selectbox(key="curate_status").set_value("published").run()
    at.selectbox(key="curate_item").set_value(published_id).run()
    at.button(key="curate_withdraw").click().run()
    assert not at.exception
    assert any("取り下げました" in s.value for s in at.success)
    public = app_for(page=BROWSE)
    assert "忠隈のボタ山" not in " ".join(m.value for m in public.markdown)


STAFF_PAGES = [(CURATE, "Curate and publish"), (IMPORT, "CSV import"), (REPORT, "Views report")]


@pytest.mark.parametrize("page,title", [(BROWSE, "Digital archive"), (MAP, "Heritage map")])
def test_public_pages_in_english(app_for, page, title):
    at = app_for(page=page, lang="en")
    assert not at.exception
    assert titles(at) == [title]


@pytest.mark.parametrize("page,title", STAFF_PAGES)
def test_curator_pages_in_english(app_for, page, title):
    at = app_for(login="curator01", page=page, lang="en")
    assert not at.exception
    assert titles(at) == [title]


def test_browse_pages_and_a_narrower_search_goes_back_to_page_one(app_for):
    at = app_for(login="curator01", page=IMPORT)
    rows = "".join(f"IZK-PG-{n:02d},町並み写真 {n},photograph,http://creativecommons.org/licenses/by/4.0/\n"
                   for n in range(30))
    at.get("file_uploader")[0].upload("many.csv", ("identifier,title_ja,type,rights\n" + rows).encode(), "text/csv")
    at.button(key="FormSubmitter:archive_import-取り込む").click().run()
    assert any("30 件" in s.value for s in at.success)
    at.switch_page(BROWSE).run()
    assert at.caption and any("44 件" in c.value for c in at.caption)  # curators see every state
    at.number_input(key="archive_page").set_value(2).run()
    cards = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(cards) == 44 - 24
    at.text_input(key="archive_query").input("石包丁").run()
    assert not at.exception
    assert at.session_state["archive_page"] == 1
    assert [m.value for m in at.markdown if m.value.startswith("**")][0] == "**立岩遺跡出土 石包丁**"

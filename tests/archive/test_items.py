"""Items, workflow, visibility, rights gating, media, sanitising, search, views."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from PIL import Image

from archive.services import items, media, places_sets, reading, search
from kernel.actor import ANONYMOUS
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from tests.archive.helpers import (
    ADMIN,
    CURATOR,
    CURATOR_B,
    IN_C,
    RESIDENT,
    TEACHER,
    item_input,
    make_item,
    png,
)

# ------------------------------------------------------------------ workflow


def test_a_new_item_is_a_draft_and_only_staff_see_it(store, clock):
    item_id = make_item(store, clock)
    assert reading.get_item(store, CURATOR, item_id).status == "draft"
    assert reading.get_item(store, ADMIN, item_id).status == "draft"
    for visitor in (ANONYMOUS, RESIDENT, TEACHER):
        with pytest.raises(NotFound):
            reading.get_item(store, visitor, item_id)
        assert reading.list_items(store, visitor) == []
        assert search.search(store, visitor, "伊藤").total == 0


def test_full_workflow_draft_review_published_withdrawn(store, clock):
    item_id = make_item(store, clock)
    items.submit(store, clock, CURATOR, item_id)
    assert reading.get_item(store, CURATOR, item_id).status == "review"
    with pytest.raises(NotFound):
        reading.get_item(store, ANONYMOUS, item_id)
    items.publish(store, clock, CURATOR_B, item_id)
    public = reading.get_item(store, ANONYMOUS, item_id)
    assert public.status == "published" and public.published_at == clock.now()
    items.withdraw(store, clock, CURATOR, item_id)
    with pytest.raises(NotFound):
        reading.get_item(store, ANONYMOUS, item_id)
    items.submit(store, clock, CURATOR, item_id)  # withdrawn → review again
    assert reading.get_item(store, CURATOR, item_id).status == "review"


def test_the_submitter_cannot_publish_but_another_curator_or_admin_can(store, clock):
    first = make_item(store, clock, "review", "IZK-T-001")
    with pytest.raises(items.SamePerson):
        items.publish(store, clock, CURATOR, first)
    items.publish(store, clock, ADMIN, first)
    second = make_item(store, clock, "review", "IZK-T-002")
    items.publish(store, clock, CURATOR_B, second)
    assert {s.status for s in reading.list_items(store, ANONYMOUS)} == {"published"}


def test_only_curators_create_and_edit(store, clock):
    for actor in (ANONYMOUS, RESIDENT, TEACHER, ADMIN):
        with pytest.raises(PermissionDenied):
            items.create_item(store, clock, actor, item_input())
    item_id = make_item(store, clock)
    with pytest.raises(PermissionDenied):
        items.update_item(store, clock, ADMIN, item_id, item_input(title_ja="書き換え"))
    with pytest.raises(PermissionDenied):
        items.submit(store, clock, RESIDENT, item_id)
    with pytest.raises(PermissionDenied):
        items.publish(store, clock, RESIDENT, item_id)


def test_the_steps_offered_follow_the_rules_four_eyes_included(store, clock):
    item_id = make_item(store, clock)
    draft = reading.get_item(store, CURATOR, item_id)
    assert items.steps_for(CURATOR, draft) == {"submit": None}
    assert isinstance(items.steps_for(ADMIN, draft)["submit"], PermissionDenied)  # curators submit
    items.submit(store, clock, CURATOR, item_id)
    review = reading.get_item(store, CURATOR, item_id)
    mine = items.steps_for(CURATOR, review)
    assert isinstance(mine["publish"], items.SamePerson) and mine["return"] is None
    assert items.steps_for(CURATOR_B, review) == {"publish": None, "return": None}
    assert items.steps_for(ADMIN, review) == {"publish": None, "return": None}
    # What is offered is what the service then does.
    items.publish(store, clock, CURATOR_B, item_id)


def test_a_step_refused_by_state_says_the_state_and_step_in_words(store, clock):
    from kernel.i18n import Translator
    from portal.runtime import catalogue

    item_id = make_item(store, clock)
    with pytest.raises(items.WrongState) as refused:
        items.publish(store, clock, ADMIN, item_id)
    words = Translator("ja", catalogue(), strict=True).error(refused.value)
    assert words.startswith("この資料は「下書き」のため、「公開」はできません。")
    english = Translator("en", catalogue(), strict=True).error(refused.value)
    assert "draft" not in english and "publish " not in english and "“Draft”" in english


def test_steps_out_of_order_are_refused(store, clock):
    item_id = make_item(store, clock)
    with pytest.raises(items.WrongState):
        items.publish(store, clock, ADMIN, item_id)  # a draft must be reviewed first
    with pytest.raises(items.WrongState):
        items.withdraw(store, clock, ADMIN, item_id)
    items.submit(store, clock, CURATOR, item_id)
    with pytest.raises(items.WrongState):
        items.submit(store, clock, CURATOR, item_id)


def test_edits_only_in_draft_or_withdrawn_and_recorded(store, clock):
    item_id = make_item(store, clock, "published")
    with pytest.raises(items.NotEditable):
        items.update_item(store, clock, CURATOR, item_id, item_input(title_ja="書き換え"))
    with pytest.raises(items.NotEditable):
        media.add_image(store, clock, CURATOR, item_id, png(), file_name="x.png")
    items.withdraw(store, clock, ADMIN, item_id)
    items.update_item(store, clock, CURATOR, item_id, item_input(title_ja="旧伊藤伝右衛門邸（改訂）"))
    assert reading.get_item(store, CURATOR, item_id).title_ja == "旧伊藤伝右衛門邸（改訂）"
    entries = reading.history(store, CURATOR, item_id)
    assert [e.action for e in entries][:3] == ["edited", "withdraw", "publish"]
    assert entries[0].detail == {"fields": ["title_ja"]} and entries[0].actor_login == "curator_a"
    assert entries[1].actor_login == "admin" and entries[1].at == clock.now()
    with pytest.raises(PermissionDenied):
        reading.history(store, RESIDENT, item_id)


def test_return_to_draft_and_delete_draft(store, clock):
    item_id = make_item(store, clock, "review")
    items.return_to_draft(store, clock, ADMIN, item_id)
    assert reading.get_item(store, CURATOR, item_id).status == "draft"
    items.delete_draft(store, clock, CURATOR, item_id)
    with pytest.raises(NotFound):
        reading.get_item(store, CURATOR, item_id)
    assert store.scalar("SELECT count(*) FROM archive_media_files") == 0


def test_a_published_item_cannot_be_deleted(store, clock):
    item_id = make_item(store, clock, "published")
    with pytest.raises(items.NotEditable):
        items.delete_draft(store, clock, CURATOR, item_id)


def test_identifier_is_unique_and_checked(store, clock):
    make_item(store, clock)
    with pytest.raises(InvalidInput) as caught:
        items.create_item(store, clock, CURATOR, item_input())
    assert caught.value.key == "archive.error.identifier_taken"
    with pytest.raises(InvalidInput) as caught:
        items.create_item(store, clock, CURATOR, item_input("bad id/with slash"))
    assert caught.value.key == "archive.error.bad_identifier"


# ------------------------------------------------------------------ fields


def test_japanese_era_gives_the_year_range(store, clock):
    item_id = make_item(store, clock, date_text="明治45年")
    item = reading.get_item(store, CURATOR, item_id)
    assert (item.year_from, item.year_to) == (1912, 1912)
    with pytest.raises(InvalidInput) as caught:
        items.create_item(store, clock, CURATOR, item_input("IZK-T-009", date_text="大正20年"))
    assert caught.value.key == "archive.error.bad_date"


def test_rights_must_be_cc_or_rightsstatements_and_are_canonical(store, clock):
    item_id = make_item(store, clock, rights="https://creativecommons.org/licenses/by-sa/4.0")
    assert reading.get_item(store, CURATOR, item_id).rights == "http://creativecommons.org/licenses/by-sa/4.0/"
    with pytest.raises(InvalidInput) as caught:
        items.create_item(store, clock, CURATOR, item_input("IZK-T-002", rights="https://en.wikipedia.org/wiki/License"))
    assert caught.value.key == "archive.error.bad_rights"


PAYLOADS = [
    "<script>alert('x')</script>旧伊藤伝右衛門邸",
    "<img src=x onerror=alert(1)>旧伊藤伝右衛門邸",
    "&lt;script&gt;alert(1)&lt;/script&gt;旧伊藤伝右衛門邸",
    "<a href=\"javascript:alert(1)\">旧伊藤伝右衛門邸</a>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_script_payloads_in_any_field_are_made_inert(store, clock, payload):
    item_id = make_item(store, clock, title_ja=payload, title_en=payload, creator_ja=payload, coverage=payload,
                        subjects_ja=[payload], format=payload, source=payload,
                        description_ja=payload + "<p onclick='x()'>本文</p>", description_en=payload)
    item = reading.get_item(store, CURATOR, item_id)
    for value in (item.title_ja, item.title_en, item.creator_ja, item.coverage, item.subjects_ja[0], item.format,
                  item.source, item.description_ja, item.description_en):
        lowered = value.lower()
        assert "<script" not in lowered and "onerror" not in lowered and "javascript:" not in lowered
        assert "onclick" not in lowered and "<img" not in lowered
    assert "旧伊藤伝右衛門邸" in item.title_ja


def test_description_keeps_simple_formatting_and_safe_links(store, clock):
    item_id = make_item(store, clock, description_ja='<p><strong>重要文化財</strong> <a href="https://www.city.iizuka.lg.jp/">市</a></p>')
    html = reading.get_item(store, CURATOR, item_id).description_ja
    assert "<strong>重要文化財</strong>" in html
    assert 'href="https://www.city.iizuka.lg.jp/"' in html and 'rel="noopener noreferrer"' in html


# ------------------------------------------------------------------ media and rights


def test_images_get_three_sizes_made_by_pillow(store, clock):
    item_id = make_item(store, clock, image=False)
    media_id = media.add_image(store, clock, CURATOR, item_id, png(4000, 3000), file_name="big.png")
    sizes = {size: (w, h) for size, w, h in store.query(
        "SELECT size, width, height FROM archive_media_files WHERE media_id = ?", [media_id])}
    assert sizes == {"full": (3000, 2250), "display": (1200, 900), "thumb": (320, 240)}
    thumb = media.media_file(store, CURATOR, media_id, "thumb")
    assert Image.open(io.BytesIO(thumb.data)).format == "JPEG"


def test_not_an_image_is_refused(store, clock):
    item_id = make_item(store, clock, image=False)
    with pytest.raises(InvalidInput) as caught:
        media.add_image(store, clock, CURATOR, item_id, b"<html>not a picture</html>", file_name="x.png")
    assert caught.value.key == "archive.error.bad_image"


def test_media_of_a_draft_are_not_served_to_the_public(store, clock):
    item_id = make_item(store, clock)
    media_id = reading.get_item(store, CURATOR, item_id).images[0].id
    with pytest.raises(NotFound):
        media.media_file(store, ANONYMOUS, media_id, "display")
    assert media.media_file(store, CURATOR, media_id, "display").data


def test_full_size_download_only_where_rights_allow(store, clock):
    open_id = make_item(store, clock, "published", "IZK-T-001")
    closed_id = make_item(store, clock, "published", "IZK-T-002", rights=IN_C)
    open_media = reading.get_item(store, ANONYMOUS, open_id).images[0]
    closed_media = reading.get_item(store, ANONYMOUS, closed_id).images[0]
    assert open_media.downloadable and not closed_media.downloadable
    assert media.media_file(store, ANONYMOUS, open_media.id, "full").data
    with pytest.raises(PermissionDenied):
        media.media_file(store, ANONYMOUS, closed_media.id, "full")
    # Viewing is always allowed: the display size and the thumbnail.
    assert media.media_file(store, ANONYMOUS, closed_media.id, "display").data


def test_an_image_may_carry_its_own_rights(store, clock):
    item_id = make_item(store, clock, image=False)
    media_id = media.add_image(store, clock, CURATOR, item_id, png(), file_name="p.png", rights_uri=IN_C)
    items.submit(store, clock, CURATOR, item_id)
    items.publish(store, clock, ADMIN, item_id)
    with pytest.raises(PermissionDenied):
        media.media_file(store, ANONYMOUS, media_id, "full")


def test_links_to_panorama_and_video_must_be_http(store, clock):
    item_id = make_item(store, clock)
    media.add_link(store, clock, CURATOR, item_id, "panorama", "https://example.org/pano", label_ja="3Dパノラマ")
    with pytest.raises(InvalidInput):
        media.add_link(store, clock, CURATOR, item_id, "video", "javascript:alert(1)")
    links = reading.get_item(store, CURATOR, item_id).links
    assert [(m.kind, m.url) for m in links] == [("panorama", "https://example.org/pano")]


# ------------------------------------------------------------------ sets, relations, places


def test_sets_and_related_items_show_only_what_the_visitor_may_see(store, clock):
    published = make_item(store, clock, "published", "IZK-T-001")
    draft = make_item(store, clock, "draft", "IZK-T-002")
    set_id = places_sets.create_set(store, CURATOR, "ito-denemon", "旧伊藤伝右衛門邸", "Ito residence")
    places_sets.add_to_set(store, clock, CURATOR, set_id, published)
    places_sets.add_to_set(store, clock, CURATOR, set_id, draft)
    places_sets.relate(store, clock, CURATOR, published, draft)
    assert [s.items for s in reading.list_sets(store, ANONYMOUS)] == [1]
    assert [s.items for s in reading.list_sets(store, CURATOR)] == [2]
    _, members = reading.get_set(store, ANONYMOUS, "ito-denemon")
    assert [m.id for m in members] == [published]
    assert reading.get_item(store, ANONYMOUS, published).related == []
    assert [r.id for r in reading.get_item(store, CURATOR, published).related] == [draft]
    with pytest.raises(InvalidInput):
        places_sets.relate(store, clock, CURATOR, published, published)


def test_places_are_reused_by_name_and_checked(store, clock):
    first = places_sets.add_place(store, CURATOR, "立岩遺跡", "Tateiwa site", 33.65, 130.68)
    assert places_sets.add_place(store, CURATOR, "立岩遺跡", None, 33.65, 130.68) == first
    with pytest.raises(InvalidInput):
        places_sets.add_place(store, CURATOR, "どこか", None, 95.0, 130.0)
    with pytest.raises(NotFound):
        items.create_item(store, clock, CURATOR, item_input(place_id=999))


# ------------------------------------------------------------------ search


def _catalogue(store, clock):
    tateiwa = places_sets.add_place(store, CURATOR, "立岩遺跡", "Tateiwa site", 33.65, 130.68)
    make_item(store, clock, "published", "IZK-S-001")
    make_item(store, clock, "published", "IZK-S-002", title_ja="立岩遺跡出土 石包丁", title_en="Stone reaping knife",
              type="object", date_text="弥生時代中期", subjects_ja=["石包丁"], subjects_en=["stone knife"],
              description_ja="<p>輝緑凝灰岩で作られた石包丁。</p>", description_en="<p>A reaping knife.</p>",
              place_id=tateiwa)
    make_item(store, clock, "published", "IZK-S-003", title_ja="嘉穂劇場", title_en="Kaho Theatre",
              date_text="昭和6年", subjects_ja=["芝居小屋"], subjects_en=["playhouse"],
              description_ja="<p>木造の芝居小屋。</p>", description_en="<p>A wooden playhouse.</p>")
    make_item(store, clock, "draft", "IZK-S-004", title_ja="炭鉱住宅の石包丁（下書き）", type="object")


def identifiers(result) -> list[str]:
    return [s.identifier for s in result.items]


def test_search_in_japanese_finds_words_inside_longer_text(store, clock):
    _catalogue(store, clock)
    assert identifiers(search.search(store, ANONYMOUS, "石包丁")) == ["IZK-S-002"]
    assert identifiers(search.search(store, ANONYMOUS, "伊藤伝右衛門の邸宅")) == ["IZK-S-001"]
    assert identifiers(search.search(store, ANONYMOUS, "芝居小屋")) == ["IZK-S-003"]
    assert identifiers(search.search(store, ANONYMOUS, "立岩遺跡")) == ["IZK-S-002"]  # the place's name
    assert search.search(store, ANONYMOUS, "存在しない言葉").total == 0


def test_search_in_english_and_full_width_letters(store, clock):
    _catalogue(store, clock)
    assert identifiers(search.search(store, ANONYMOUS, "Kaho theatre")) == ["IZK-S-003"]
    assert identifiers(search.search(store, ANONYMOUS, "ＫＡＨＯ")) == ["IZK-S-003"]
    assert identifiers(search.search(store, ANONYMOUS, "playhouse")) == ["IZK-S-003"]


def test_search_never_returns_drafts_to_the_public(store, clock):
    _catalogue(store, clock)
    assert "IZK-S-004" not in identifiers(search.search(store, ANONYMOUS, "石包丁"))
    assert "IZK-S-004" in identifiers(search.search(store, CURATOR, "石包丁"))
    # Asking for a status does not widen what the public sees.
    assert search.search(store, ANONYMOUS, "", status="draft").total == 0


def test_facets_count_types_and_eras_and_filter(store, clock):
    _catalogue(store, clock)
    result = search.search(store, ANONYMOUS, "")
    assert result.total == 3
    assert result.facets["type"] == {"building": 2, "object": 1}
    assert result.facets["era"] == {"ancient": 1, "meiji": 1, "showa": 1}
    assert identifiers(search.search(store, ANONYMOUS, "", types=["object"])) == ["IZK-S-002"]
    assert identifiers(search.search(store, ANONYMOUS, "", era="showa")) == ["IZK-S-003"]
    # The type facet still counts other types while a type is chosen.
    assert search.search(store, ANONYMOUS, "", types=["object"]).facets["type"] == {"building": 2, "object": 1}


def test_search_sorts_by_date_and_pages(store, clock):
    _catalogue(store, clock)
    assert identifiers(search.search(store, ANONYMOUS, "")) == ["IZK-S-002", "IZK-S-001", "IZK-S-003"]
    assert identifiers(search.search(store, ANONYMOUS, "", limit=1, offset=1)) == ["IZK-S-001"]


# ------------------------------------------------------------------ views


def test_views_are_counted_per_item_and_day_for_published_items_only(store, clock):
    published = make_item(store, clock, "published", "IZK-V-001")
    draft = make_item(store, clock, "draft", "IZK-V-002")
    search.record_view(store, clock, published)
    search.record_view(store, clock, published)
    search.record_view(store, clock, draft)
    today = clock.now().date()
    clock.advance(timedelta(days=1))
    search.record_view(store, clock, published)
    tomorrow = today + timedelta(days=1)
    assert store.query("SELECT day, views FROM archive_views ORDER BY day") == [(today, 2), (tomorrow, 1)]
    since, until = today - timedelta(days=40), today + timedelta(days=40)
    total, per_item, per_month = search.views_report(store, CURATOR, since, until)
    assert total == 3 and [r.identifier for r in per_item] == ["IZK-V-001"]
    by_month = Counter({today.replace(day=1): 2}) + Counter({tomorrow.replace(day=1): 1})
    assert per_month == sorted(by_month.items())
    with pytest.raises(PermissionDenied):
        search.views_report(store, RESIDENT, since, until)


def test_share_qr_code_is_a_square_png():
    png_bytes = search.share_qr_png("http://localhost:8501/archive?item=1&lang=ja")
    image = Image.open(io.BytesIO(png_bytes))
    assert image.format == "PNG" and image.width == image.height and image.width > 100


def test_get_items_keeps_the_order_and_leaves_out_what_the_visitor_may_not_see(store, clock):
    a = make_item(store, clock, "published", "IZK-G-1")
    b = make_item(store, clock, "draft", "IZK-G-2")
    c = make_item(store, clock, "published", "IZK-G-3")
    places_sets.relate(store, clock, CURATOR, a, c)
    places_sets.relate(store, clock, CURATOR, a, b)
    set_id = places_sets.create_set(store, CURATOR, "g", "G")
    places_sets.add_to_set(store, clock, CURATOR, set_id, c)
    public = reading.get_items(store, ANONYMOUS, [c, b, a])
    assert [i.identifier for i in public] == ["IZK-G-3", "IZK-G-1"]
    assert [r.identifier for r in public[1].related] == ["IZK-G-3"]  # the draft is not shown
    assert [s.slug for s in public[0].sets] == ["g"] and public[1].sets == []
    assert [r.identifier for r in reading.get_items(store, CURATOR, [a])[0].related] == ["IZK-G-2", "IZK-G-3"]
    assert len(public[0].images) == 1 and public[0].images[0].item_id == c

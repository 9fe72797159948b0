"""IIIF Presentation 3: our manifests and collections against the IIIF JSON schema, and the
schema checked on real files (valid ones pass, invalid ones fail) so that the check means something."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from archive.services import iiif, items, media, places_sets, reading
from kernel.errors import NotFound
from tests.archive.helpers import ADMIN, CURATOR, make_item, png

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "iiif"
SCHEMA = json.loads((CORPUS / "iiif_3_0.schema.json").read_text(encoding="utf-8"))
BASE = "http://archive.test:8501"


def validate(document: dict) -> None:
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft7Validator)


@pytest.mark.parametrize("path", sorted((CORPUS / "valid").glob("*.json")), ids=lambda p: p.name)
def test_the_schema_accepts_the_real_valid_files(path):
    validate(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", sorted((CORPUS / "invalid").glob("*.json")), ids=lambda p: p.name)
def test_the_schema_rejects_the_real_invalid_files(path):
    with pytest.raises(jsonschema.ValidationError):
        validate(json.loads(path.read_text(encoding="utf-8")))


def _published_with_everything(store, clock) -> int:
    place = places_sets.add_place(store, CURATOR, "旧伊藤伝右衛門邸", "Former Ito Den'emon Residence", 33.6392, 130.6866)
    item_id = make_item(store, clock, "draft", place_id=place)
    media.add_link(store, clock, CURATOR, item_id, "panorama", "https://example.org/pano", label_ja="3Dパノラマ")
    media.add_link(store, clock, CURATOR, item_id, "video", "https://example.org/video")
    set_id = places_sets.create_set(store, CURATOR, "ito-denemon", "旧伊藤伝右衛門邸", "Ito residence")
    places_sets.add_to_set(store, clock, CURATOR, set_id, item_id)
    items.submit(store, clock, CURATOR, item_id)
    items.publish(store, clock, ADMIN, item_id)
    return item_id


def test_manifest_of_a_published_item_is_valid_and_complete(store, clock):
    item_id = _published_with_everything(store, clock)
    manifest = iiif.manifest(store, BASE, item_id)
    validate(manifest)
    assert manifest["id"] == f"{BASE}/iiif/{item_id}/manifest"
    assert manifest["label"] == {"ja": ["旧伊藤伝右衛門邸 主屋"], "en": ["Ito Den'emon residence: main house"]}
    assert manifest["rights"] == "http://creativecommons.org/licenses/by/4.0/"
    assert manifest["requiredStatement"]["value"]["ja"][0].startswith("飯塚市歴史資料館")
    canvas = manifest["items"][0]
    body = canvas["items"][0]["items"][0]["body"]
    assert (canvas["width"], canvas["height"]) == (body["width"], body["height"]) == (640, 480)
    assert body["id"].startswith(f"{BASE}/archive/media/") and body["id"].endswith("/display.jpg")
    assert manifest["navDate"].startswith("1897-")
    assert manifest["navPlace"]["features"][0]["geometry"]["coordinates"] == [130.6866, 33.6392]
    assert [r["id"] for r in manifest["rendering"]] == ["https://example.org/pano", "https://example.org/video"]
    labels = {entry["label"]["en"][0]: entry["value"] for entry in manifest["metadata"]}
    assert labels["Date"] == {"ja": ["明治30年代"], "en": ["明治30年代"]}


def test_manifest_with_a_rightsstatement_and_no_image_is_valid(store, clock):
    item_id = make_item(store, clock, "published", image=False,
                        rights="http://rightsstatements.org/vocab/InC-EDU/1.0/", date_text=None)
    manifest = iiif.manifest(store, BASE, item_id)
    validate(manifest)
    assert manifest["items"] == [] and "navDate" not in manifest


@pytest.mark.parametrize("status", ["draft", "review", "withdrawn"])
def test_no_manifest_for_an_item_that_is_not_published(store, clock, status):
    item_id = make_item(store, clock, status)
    with pytest.raises(NotFound):
        iiif.manifest(store, BASE, item_id)


def test_collections_hold_published_items_only_and_are_valid(store, clock):
    published = _published_with_everything(store, clock)
    draft = make_item(store, clock, "draft", "IZK-T-002")
    places_sets.add_to_set(store, clock, CURATOR, 1, draft)
    collection = iiif.collection(store, BASE, "ito-denemon")
    validate(collection)
    assert [m["id"] for m in collection["items"]] == [f"{BASE}/iiif/{published}/manifest"]
    top = iiif.top_collection(store, BASE)
    validate(top)
    assert [c["id"] for c in top["items"]] == [f"{BASE}/iiif/collection/ito-denemon"]
    with pytest.raises(NotFound):
        iiif.collection(store, BASE, "no-such-set")


def test_script_in_a_title_does_not_reach_the_manifest(store, clock):
    item_id = make_item(store, clock, "published", title_ja="<script>alert(1)</script>石包丁",
                        description_ja="<img src=x onerror=alert(1)>説明")
    text = json.dumps(iiif.manifest(store, BASE, item_id), ensure_ascii=False)
    assert "<script" not in text and "onerror" not in text and "石包丁" in text


def _published_with_big_image(store, clock, identifier: str, rights_uri: str) -> int:
    item_id = make_item(store, clock, "draft", identifier, image=False, rights=rights_uri)
    media_id = media.add_image(store, clock, CURATOR, item_id, png(1600, 1200), file_name="big.png")
    items.submit(store, clock, CURATOR, item_id)
    items.publish(store, clock, ADMIN, item_id)
    return media_id


def test_image_service_level0_lists_only_the_sizes_rights_allow(store, clock):
    open_media = _published_with_big_image(store, clock, "IZK-T-001", "http://creativecommons.org/licenses/by/4.0/")
    closed_media = _published_with_big_image(store, clock, "IZK-T-002", "http://rightsstatements.org/vocab/InC/1.0/")
    info = iiif.image_info(store, BASE, open_media)
    validate_image = info["profile"] == "level0" and info["id"] == f"{BASE}/iiif/image/{open_media}"
    assert validate_image and (info["width"], info["height"]) == (1600, 1200)
    assert info["sizes"] == [{"width": 320, "height": 240}, {"width": 1200, "height": 900},
                             {"width": 1600, "height": 1200}]
    closed = iiif.image_info(store, BASE, closed_media)
    assert closed["sizes"] == [{"width": 320, "height": 240}, {"width": 1200, "height": 900}]
    assert iiif.image_size_for(store, open_media, "full", "320,", "0", "default.jpg") == "thumb"
    assert iiif.image_size_for(store, open_media, "full", "max", "0", "default.jpg") == "full"
    assert iiif.image_size_for(store, closed_media, "full", "max", "0", "default.jpg") == "display"
    with pytest.raises(NotFound):
        iiif.image_size_for(store, closed_media, "full", "1600,1200", "0", "default.jpg")
    with pytest.raises(NotFound):
        iiif.image_size_for(store, open_media, "0,0,10,10", "max", "0", "default.jpg")
    draft_media = reading.get_item(store, CURATOR, make_item(store, clock, "draft", "IZK-T-003")).images[0].id
    with pytest.raises(NotFound):
        iiif.image_info(store, BASE, draft_media)

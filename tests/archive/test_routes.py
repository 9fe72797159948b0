"""The archive's HTTP routes on the real server (`manabi serve` over the small demo)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import httpx
import jsonschema
import pytest
from PIL import Image

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "iiif"
SCHEMA = json.loads((CORPUS / "iiif_3_0.schema.json").read_text(encoding="utf-8"))
ROOT = Path(__file__).resolve().parents[2]


def demo_items(db: Path) -> dict[str, dict]:
    """What `manabi archive list --json` prints, by identifier."""
    out = subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(db), "archive", "list", "--json"],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return {row["identifier"]: row for row in json.loads(out)}


@pytest.fixture(scope="module")
def listed(demo_db):
    return demo_items(demo_db)


def test_every_published_manifest_validates(server, listed):
    published = [row for row in listed.values() if row["status"] == "published"]
    assert len(published) >= 10
    for row in published:
        response = httpx.get(f"{server}/iiif/{row['id']}/manifest")
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        assert "application/ld+json" in response.headers["content-type"]
        manifest = response.json()
        jsonschema.validate(manifest, SCHEMA)
        assert manifest["id"] == f"{server}/iiif/{row['id']}/manifest"
        assert manifest["label"]["ja"] == [row["title_ja"]]


@pytest.mark.parametrize("identifier", ["IZK-DEMO-012", "IZK-DEMO-013", "IZK-DEMO-014"])
def test_no_route_serves_an_item_that_is_not_published(server, listed, identifier):
    row = listed[identifier]
    assert row["status"] != "published"
    assert httpx.get(f"{server}/iiif/{row['id']}/manifest").status_code == 404
    exported = httpx.get(f"{server}/archive/export.json").json()["records"]
    assert identifier not in {r["dcterms:identifier"] for r in exported}
    assert identifier not in httpx.get(f"{server}/archive/export.csv").text
    for slug in ("ito-denemon", "coal-mining"):
        collection = httpx.get(f"{server}/iiif/collection/{slug}").json()
        assert f"/iiif/{row['id']}/manifest" not in json.dumps(collection)


def test_images_of_a_draft_are_not_served(server, demo_db):
    # Every image of a draft or withdrawn item (the browser test may publish the item in review
    # on this shared server, so that one is left out), asked for at every size.
    import duckdb

    with duckdb.connect(str(demo_db), read_only=True) as con:
        draft_media = con.execute("""SELECT m.id FROM archive_media m JOIN archive_items i ON i.id = m.item_id
                                     WHERE i.status IN ('draft', 'withdrawn') AND m.kind = 'image'""").fetchall()
    assert draft_media
    for (media_id,) in draft_media:
        for size in ("thumb", "display", "full"):
            assert httpx.get(f"{server}/archive/media/{media_id}/{size}.jpg").status_code == 404


def test_images_are_served_in_sizes_and_full_size_follows_rights(server):
    manifest = httpx.get(f"{server}/iiif/1/manifest").json()
    display_url = manifest["items"][0]["items"][0]["items"][0]["body"]["id"]
    response = httpx.get(display_url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert (image.width, image.height) == (manifest["items"][0]["width"], manifest["items"][0]["height"])
    assert httpx.get(display_url.replace("display.jpg", "full.jpg")).status_code == 200  # CC BY
    # The stained glass (IZK-DEMO-003) is "In copyright": it may be viewed, not downloaded.
    glass = httpx.get(f"{server}/iiif/3/manifest").json()
    assert glass["rights"] == "http://rightsstatements.org/vocab/InC/1.0/"
    glass_display = glass["items"][0]["items"][0]["items"][0]["body"]["id"]
    assert httpx.get(glass_display).status_code == 200
    assert httpx.get(glass_display.replace("display.jpg", "full.jpg")).status_code == 403
    assert httpx.get(f"{server}/archive/media/1/huge.jpg").status_code == 404


def test_collections_validate(server):
    top = httpx.get(f"{server}/iiif/collection").json()
    jsonschema.validate(top, SCHEMA)
    assert {c["id"].rsplit("/", 1)[1] for c in top["items"]} == {"ito-denemon", "tateiwa", "nagasaki-kaido",
                                                                  "coal-mining"}
    for entry in top["items"]:
        jsonschema.validate(httpx.get(entry["id"]).json(), SCHEMA)
    assert httpx.get(f"{server}/iiif/collection/nothing-here").status_code == 404
    assert httpx.get(f"{server}/archive/export.xml").status_code == 404


def test_oai_pmh_answers_on_the_server(server, listed):
    response = httpx.get(f"{server}/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    published = {row["identifier"] for row in listed.values() if row["status"] == "published"}
    drafts = {row["identifier"] for row in listed.values() if row["status"] != "published"}
    assert all(f"oai:iizuka-manabi:{i}" in response.text for i in published - {"IZK-DEMO-005"})
    assert not any(f"oai:iizuka-manabi:{i}<" in response.text for i in drafts - {"IZK-DEMO-005"})


def test_iiif_image_service_level0_on_the_server(server):
    manifest = httpx.get(f"{server}/iiif/1/manifest").json()
    service = manifest["items"][0]["items"][0]["items"][0]["body"]["service"][0]
    info = httpx.get(f"{service['id']}/info.json").json()
    assert info["profile"] == "level0" and info["id"] == service["id"]
    smallest = info["sizes"][0]
    picture = httpx.get(f"{service['id']}/full/{smallest['width']},/0/default.jpg")
    assert picture.status_code == 200
    assert Image.open(io.BytesIO(picture.content)).size == (smallest["width"], smallest["height"])
    assert httpx.get(f"{service['id']}/full/17,/0/default.jpg").status_code == 404

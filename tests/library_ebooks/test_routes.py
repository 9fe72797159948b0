"""OPDS routes on the real server: public catalogue and search (1.2 Atom and 2.0 JSON);
the shelf, borrowing and downloads only with a resident's HTTP Basic credentials."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree as ET

import httpx

from library_ebooks.demo_books import PICTURE_BOOKS, SHELF

ATOM = "{http://www.w3.org/2005/Atom}"
OPDS = "{http://opds-spec.org/2010/catalog}"
PASSWORD = "manabi-demo"


def titles_of(feed: ET.Element) -> list[str]:
    return [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]


def test_catalogue_feed_is_opds_atom_with_search_and_covers(server):
    response = httpx.get(f"{server}/opds")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml;profile=opds-catalog")
    feed = ET.fromstring(response.content)
    assert "走れメロス" in titles_of(feed) and "Pride and Prejudice" in titles_of(feed)
    rels = {link.get("rel") for link in feed.findall(f"{ATOM}link")}
    assert {"self", "start", "search", "http://opds-spec.org/shelf"} <= rels
    entry = feed.find(f"{ATOM}entry")
    cover = next(link.get("href") for link in entry.findall(f"{ATOM}link")
                 if link.get("rel") == "http://opds-spec.org/image/thumbnail")
    image = httpx.get(f"{server}{cover}")
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"
    assert httpx.get(f"{server}/opds/opensearch.xml").status_code == 200


def test_search_feeds_find_by_kana_reading(server):
    feed = ET.fromstring(httpx.get(f"{server}/opds/search", params={"q": "あくたがわ"}).content)
    assert set(titles_of(feed)) == {"羅生門", "蜘蛛の糸"}
    data = httpx.get(f"{server}/opds/v2/search", params={"query": "みやざわけんじ"}).json()
    assert {p["metadata"]["title"] for p in data["publications"]} == {"銀河鉄道の夜", "注文の多い料理店"}
    assert data["publications"][0]["metadata"]["author"][0]["sortAs"] == "みやざわ けんじ"
    catalogue = httpx.get(f"{server}/opds/v2/catalog.json").json()
    assert catalogue["metadata"]["numberOfItems"] == len(SHELF) + len(PICTURE_BOOKS)


def test_shelf_needs_credentials(server):
    assert httpx.get(f"{server}/opds/shelf").status_code == 401
    response = httpx.get(f"{server}/opds/shelf", auth=("resident01", "wrong-password"))
    assert response.status_code == 401 and "Basic" in response.headers["www-authenticate"]


def test_shelf_lists_own_loans_and_offers_download_to_the_borrower_only(server):
    feed = ET.fromstring(httpx.get(f"{server}/opds/shelf", auth=("resident01", PASSWORD)).content)
    assert set(titles_of(feed)) >= {"走れメロス", "坊っちゃん"}  # a loan and a hold
    melos = next(e for e in feed.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == "走れメロス")
    download = next(link.get("href") for link in melos.findall(f"{ATOM}link")
                    if link.get("rel") == "http://opds-spec.org/acquisition")
    book = httpx.get(f"{server}{download}", auth=("resident01", PASSWORD))
    assert book.status_code == 200 and book.headers["content-type"] == "application/epub+zip"
    assert "META-INF/container.xml" in zipfile.ZipFile(io.BytesIO(book.content)).namelist()
    assert httpx.get(f"{server}{download}", auth=("resident02", PASSWORD)).status_code == 404
    assert httpx.get(f"{server}{download}").status_code == 401
    other = ET.fromstring(httpx.get(f"{server}/opds/shelf", auth=("resident02", PASSWORD)).content)
    assert "走れメロス" not in titles_of(other)


def test_borrow_through_opds_then_no_copy_left(server):
    feed = ET.fromstring(httpx.get(f"{server}/opds/search", params={"q": "Pride"}).content)
    entry = feed.find(f"{ATOM}entry")
    borrow = next(link for link in entry.findall(f"{ATOM}link") if link.get("rel").endswith("acquisition/borrow"))
    assert borrow.find(f"{OPDS}availability").get("status") == "available"  # resident06 has one of two copies
    assert httpx.post(f"{server}{borrow.get('href')}", auth=("resident14", PASSWORD)).status_code == 201
    refused = httpx.post(f"{server}{borrow.get('href')}", auth=("resident15", PASSWORD))
    assert refused.status_code == 409 and "予約" in refused.text

    feed = ET.fromstring(httpx.get(f"{server}/opds/search", params={"q": "銀河鉄道"}).content)
    entry = feed.find(f"{ATOM}entry")
    href = next(link.get("href") for link in entry.findall(f"{ATOM}link")
                if link.get("rel").endswith("acquisition/borrow"))
    taken = httpx.post(f"{server}{href}", auth=("resident16", PASSWORD))
    assert taken.status_code == 201
    loan_entry = ET.fromstring(taken.content)
    assert any(link.get("type") == "application/epub+zip" for link in loan_entry.findall(f"{ATOM}link"))
    assert httpx.post(f"{server}{href}", auth=("librarian01", PASSWORD)).status_code == 403


def test_reading_apps_meet_the_sign_in_lockout(server):
    """OPDS checks passwords through the portal's sign-in (kernel.auth): five wrong
    passwords lock the account, and then even the right one is refused for a while."""
    assert httpx.get(f"{server}/opds/shelf", auth=("resident18", PASSWORD)).status_code == 200
    for _ in range(5):
        assert httpx.get(f"{server}/opds/shelf", auth=("resident18", "wrong-password")).status_code == 401
    assert httpx.get(f"{server}/opds/shelf", auth=("resident18", PASSWORD)).status_code == 401

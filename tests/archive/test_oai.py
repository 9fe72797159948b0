"""OAI-PMH over the published items: verbs, errors, paging, and no drafts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from archive.services import oai, places_sets
from tests.archive.helpers import CURATOR, make_item

NS = {"o": oai.OAI, "dc": oai.DC, "oai_dc": oai.OAI_DC}
BASE = "http://archive.test"


def ask(store, clock, **args) -> ET.Element:
    return ET.fromstring(oai.respond(store, BASE, args, clock.now()).encode())


def error_code(doc: ET.Element) -> str | None:
    found = doc.find("o:error", NS)
    return None if found is None else found.get("code")


def test_identify_and_formats(store, clock):
    doc = ask(store, clock, verb="Identify")
    assert doc.find("o:Identify/o:baseURL", NS).text == f"{BASE}/oai"
    doc = ask(store, clock, verb="ListMetadataFormats")
    assert doc.find("o:ListMetadataFormats/o:metadataFormat/o:metadataPrefix", NS).text == "oai_dc"


def test_list_records_has_published_items_only(store, clock):
    make_item(store, clock, "published", "IZK-O-1")
    make_item(store, clock, "draft", "IZK-O-2")
    make_item(store, clock, "withdrawn", "IZK-O-3")
    doc = ask(store, clock, verb="ListRecords", metadataPrefix="oai_dc")
    ids = [e.text for e in doc.findall("o:ListRecords/o:record/o:header/o:identifier", NS)]
    assert ids == ["oai:iizuka-manabi:IZK-O-1"]
    titles = doc.findall("o:ListRecords/o:record/o:metadata/oai_dc:dc/dc:title", NS)
    assert [t.text for t in titles] == ["旧伊藤伝右衛門邸 主屋", "Ito Den'emon residence: main house"]
    assert error_code(ask(store, clock, verb="GetRecord", metadataPrefix="oai_dc",
                          identifier="oai:iizuka-manabi:IZK-O-2")) == "idDoesNotExist"


def test_sets_dates_and_errors(store, clock):
    first = make_item(store, clock, "published", "IZK-O-1")
    make_item(store, clock, "published", "IZK-O-2")
    set_id = places_sets.create_set(store, CURATOR, "tateiwa", "立岩遺跡", "Tateiwa")
    places_sets.add_to_set(store, clock, CURATOR, set_id, first)
    doc = ask(store, clock, verb="ListIdentifiers", metadataPrefix="oai_dc", set="tateiwa")
    assert [e.text for e in doc.findall("o:ListIdentifiers/o:header/o:identifier", NS)] == ["oai:iizuka-manabi:IZK-O-1"]
    assert [e.text for e in ask(store, clock, verb="ListSets").findall("o:ListSets/o:set/o:setSpec", NS)] == ["tateiwa"]
    assert error_code(ask(store, clock, verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2030-01-01"})) == "noRecordsMatch"
    assert error_code(ask(store, clock, verb="ListRecords", metadataPrefix="marc")) == "cannotDisseminateFormat"
    assert error_code(ask(store, clock, verb="ListRecords")) == "badArgument"
    assert error_code(ask(store, clock, verb="Nope")) == "badVerb"
    assert error_code(ask(store, clock, verb="ListRecords", resumptionToken="garbage")) == "badResumptionToken"


@pytest.mark.parametrize("total", [150])
def test_long_lists_come_in_pages(store, clock, total):
    from archive.services import importer
    from kernel.actor import SYSTEM

    rows = "".join(f"IZK-P-{n:03d},題{n},object,http://creativecommons.org/licenses/by/4.0/,published\n"
                   for n in range(total))
    importer.import_csv(store, clock, SYSTEM, ("identifier,title_ja,type,rights,status\n" + rows).encode())
    doc = ask(store, clock, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = doc.find("o:ListIdentifiers/o:resumptionToken", NS)
    assert len(doc.findall("o:ListIdentifiers/o:header", NS)) == oai.PAGE
    assert token.get("completeListSize") == str(total)
    rest = ask(store, clock, verb="ListIdentifiers", resumptionToken=token.text)
    assert len(rest.findall("o:ListIdentifiers/o:header", NS)) == total - oai.PAGE
    assert rest.find("o:ListIdentifiers/o:resumptionToken", NS).text is None

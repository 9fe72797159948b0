"""OAI-PMH 2.0 (oai_dc) over the published items, for harvesters such as Japan Search.

Verbs: Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord.
Sets are the item sets. Only published items exist here (deletedRecord "no"): the
anonymous actor reads them, so a draft can never be harvested. Lists come 100 at a
time with a resumptionToken ("offset:from:until:set").
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from archive.services import iiif, items, reading, text
from kernel.actor import ANONYMOUS
from kernel.errors import NotFound
from kernel.store import Store

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PAGE = 100
REPOSITORY = "iizuka-manabi"
for prefix, uri in (("", OAI), ("oai_dc", OAI_DC), ("dc", DC), ("xsi", XSI)):
    ET.register_namespace(prefix, uri)


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _el(parent, tag: str, value: str | None = None, ns: str = OAI, **attrs) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if value is not None:
        element.text = value
    return element


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _oai_id(identifier: str) -> str:
    return f"oai:{REPOSITORY}:{identifier}"


def _parse_day(value: str | None, arg: str) -> str | None:
    if not value:
        return None
    try:
        datetime.strptime(value[:10], "%Y-%m-%d")
    except ValueError as exc:
        raise OaiError("badArgument", f"{arg} must be YYYY-MM-DD") from exc
    return value[:10]


def _header(parent, item: items.Item) -> None:
    header = _el(parent, "header")
    _el(header, "identifier", _oai_id(item.identifier))
    _el(header, "datestamp", _stamp(item.updated_at))
    for s in item.sets:
        _el(header, "setSpec", s.slug)


def _record(parent, item: items.Item, base: str) -> None:
    record = _el(parent, "record")
    _header(record, item)
    metadata = _el(record, "metadata")
    dc = _el(metadata, "dc", ns=OAI_DC, **{f"{{{XSI}}}schemaLocation":
                                             f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"})

    def put(tag: str, value: str | None, lang: str | None = None) -> None:
        if value:
            element = _el(dc, tag, value, ns=DC)
            if lang:
                element.set("{http://www.w3.org/XML/1998/namespace}lang", lang)

    put("title", item.title_ja, "ja")
    put("title", item.title_en, "en")
    put("creator", item.creator_ja, "ja")
    put("creator", item.creator_en, "en")
    for subject in item.subjects_ja:
        put("subject", subject, "ja")
    for subject in item.subjects_en:
        put("subject", subject, "en")
    put("description", text.rich_to_plain(item.description_ja), "ja")
    put("description", text.rich_to_plain(item.description_en), "en")
    put("date", item.date_text)
    put("type", item.type)
    put("format", item.format)
    put("identifier", item.identifier)
    put("identifier", iiif.item_urls(base, item.id)["page"])
    put("source", item.source)
    for related in item.related:
        put("relation", related.identifier)
    put("coverage", item.coverage)
    if item.place:
        put("coverage", f"{item.place.name_ja} ({item.place.latitude:.5f}, {item.place.longitude:.5f})", "ja")
    put("rights", item.rights)


def _selection(store: Store, from_day: str | None, until_day: str | None, set_slug: str | None) -> list[int]:
    """Ids of the published items changed in [from, until] (UTC days), in the set if given, in id order."""
    chosen = []
    members = None
    if set_slug:
        members = {item_id for (item_id,) in store.query(
            """SELECT si.item_id FROM archive_set_items si JOIN archive_sets s ON s.id = si.set_id
               WHERE s.slug = ?""", [set_slug])}
    for summary in reading.list_items(store, ANONYMOUS):  # published only
        day = summary.updated_at.astimezone(UTC).strftime("%Y-%m-%d")
        if (from_day and day < from_day) or (until_day and day > until_day):
            continue
        if members is not None and summary.id not in members:
            continue
        chosen.append(summary.id)
    return chosen


def respond(store: Store, base: str, args: dict[str, str], now: datetime) -> str:
    """The OAI-PMH response document for the request arguments, as XML text."""
    root = ET.Element(f"{{{OAI}}}OAI-PMH", {f"{{{XSI}}}schemaLocation":
                                          f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"})
    _el(root, "responseDate", _stamp(now))
    verb = args.get("verb", "")
    request = _el(root, "request", f"{base.rstrip('/')}/oai")
    try:
        _answer(root, request, store, base, verb, args)
    except OaiError as exc:
        request.attrib.clear()
        _el(root, "error", exc.message, code=exc.code)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


_ALLOWED = {
    "Identify": set(), "ListMetadataFormats": {"identifier"}, "ListSets": {"resumptionToken"},
    "GetRecord": {"identifier", "metadataPrefix"},
    "ListIdentifiers": {"metadataPrefix", "from", "until", "set", "resumptionToken"},
    "ListRecords": {"metadataPrefix", "from", "until", "set", "resumptionToken"},
}


def _answer(root, request, store: Store, base: str, verb: str, args: dict[str, str]) -> None:
    if verb not in _ALLOWED:
        raise OaiError("badVerb", "unknown or missing verb")
    extra = set(args) - _ALLOWED[verb] - {"verb"}
    if extra:
        raise OaiError("badArgument", f"unexpected arguments: {', '.join(sorted(extra))}")
    request.set("verb", verb)
    for key, value in args.items():
        if key != "verb":
            request.set(key, value)
    body = _el(root, verb)
    if verb == "Identify":
        _el(body, "repositoryName", "飯塚市 デジタルアーカイブ (Manabi)")
        _el(body, "baseURL", f"{base.rstrip('/')}/oai")
        _el(body, "protocolVersion", "2.0")
        _el(body, "adminEmail", "archive@city.iizuka.example")
        _el(body, "earliestDatestamp", "2000-01-01T00:00:00Z")
        _el(body, "deletedRecord", "no")
        _el(body, "granularity", "YYYY-MM-DDThh:mm:ssZ")
        return
    if verb == "ListMetadataFormats":
        if "identifier" in args:
            _find(store, args["identifier"])
        fmt = _el(body, "metadataFormat")
        _el(fmt, "metadataPrefix", "oai_dc")
        _el(fmt, "schema", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
        _el(fmt, "metadataNamespace", OAI_DC)
        return
    if verb == "ListSets":
        if "resumptionToken" in args:
            raise OaiError("badResumptionToken", "sets come in one list")
        for s in reading.list_sets(store, ANONYMOUS):
            if s.items:
                entry = _el(body, "set")
                _el(entry, "setSpec", s.slug)
                _el(entry, "setName", f"{s.title_ja} / {s.title_en}" if s.title_en else s.title_ja)
        return
    if verb == "GetRecord":
        if args.get("metadataPrefix") != "oai_dc":
            raise OaiError("cannotDisseminateFormat", "only oai_dc") if "metadataPrefix" in args else \
                OaiError("badArgument", "metadataPrefix is required")
        if "identifier" not in args:
            raise OaiError("badArgument", "identifier is required")
        _record(body, _find(store, args["identifier"]), base)
        return
    # ListIdentifiers / ListRecords
    if "resumptionToken" in args:
        if set(args) - {"verb", "resumptionToken"}:
            raise OaiError("badArgument", "resumptionToken is exclusive")
        try:
            offset_text, from_day, until_day, set_slug = args["resumptionToken"].split(":", 3)
            offset = int(offset_text)
        except ValueError as exc:
            raise OaiError("badResumptionToken", "not a token of this repository") from exc
    else:
        if args.get("metadataPrefix") != "oai_dc":
            raise OaiError("cannotDisseminateFormat", "only oai_dc") if "metadataPrefix" in args else \
                OaiError("badArgument", "metadataPrefix is required")
        offset = 0
        from_day = _parse_day(args.get("from"), "from") or ""
        until_day = _parse_day(args.get("until"), "until") or ""
        set_slug = args.get("set", "")
    chosen = _selection(store, from_day or None, until_day or None, set_slug or None)
    if not chosen:
        raise OaiError("noRecordsMatch", "no published items match")
    for item in reading.get_items(store, ANONYMOUS, chosen[offset:offset + PAGE]):
        if verb == "ListRecords":
            _record(body, item, base)
        else:
            _header(body, item)
    if offset + PAGE < len(chosen):
        _el(body, "resumptionToken", f"{offset + PAGE}:{from_day}:{until_day}:{set_slug}",
            completeListSize=str(len(chosen)), cursor=str(offset))
    elif offset:
        _el(body, "resumptionToken", "", completeListSize=str(len(chosen)), cursor=str(offset))


def _find(store: Store, oai_identifier: str) -> items.Item:
    prefix = f"oai:{REPOSITORY}:"
    identifier = oai_identifier[len(prefix):] if oai_identifier.startswith(prefix) else None
    found = [s for s in reading.list_items(store, ANONYMOUS) if s.identifier == identifier]
    if not found:
        raise OaiError("idDoesNotExist", "no published item has this identifier")
    try:
        return reading.get_item(store, ANONYMOUS, found[0].id)
    except NotFound as exc:
        raise OaiError("idDoesNotExist", "no published item has this identifier") from exc

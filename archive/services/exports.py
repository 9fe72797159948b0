"""Published metadata for aggregators (Japan Search, Europeana): CSV and JSON.

Built with the anonymous actor, so only published items ever leave this way. Field
names follow Dublin Core terms (dcterms:*) with EDM's links (edm:isShownAt, edm:object,
edm:rights), which both Japan Search's and Europeana's harvesters map without help.
"""

from __future__ import annotations

import json

from archive.services import iiif, reading, text
from kernel.actor import ANONYMOUS
from kernel.csv_export import write_dict_csv
from kernel.store import Store

CSV_COLUMNS = (
    "dcterms:identifier", "dcterms:title@ja", "dcterms:title@en", "dcterms:creator@ja", "dcterms:creator@en",
    "dcterms:date", "year_from", "year_to", "dcterms:type", "dcterms:subject@ja", "dcterms:subject@en",
    "dcterms:description@ja", "dcterms:description@en", "dcterms:format", "dcterms:source",
    "dcterms:coverage", "dcterms:spatial@ja", "latitude", "longitude", "dcterms:isPartOf",
    "dcterms:relation", "edm:rights", "edm:isShownAt", "edm:object", "iiif:manifest", "dcterms:modified",
)


def records(store: Store, base: str) -> list[dict]:
    """One record per published item, in identifier order."""
    out = []
    ordered = [s.id for s in sorted(reading.list_items(store, ANONYMOUS), key=lambda s: s.identifier)]
    for item in reading.get_items(store, ANONYMOUS, ordered):
        urls = iiif.item_urls(base, item.id)
        out.append({
            "dcterms:identifier": item.identifier,
            "dcterms:title@ja": item.title_ja,
            "dcterms:title@en": item.title_en,
            "dcterms:creator@ja": item.creator_ja,
            "dcterms:creator@en": item.creator_en,
            "dcterms:date": item.date_text,
            "year_from": item.year_from,
            "year_to": item.year_to,
            "dcterms:type": item.type,
            "dcterms:subject@ja": item.subjects_ja,
            "dcterms:subject@en": item.subjects_en,
            "dcterms:description@ja": text.rich_to_plain(item.description_ja) or None,
            "dcterms:description@en": text.rich_to_plain(item.description_en) or None,
            "dcterms:format": item.format,
            "dcterms:source": item.source,
            "dcterms:coverage": item.coverage,
            "dcterms:spatial@ja": item.place.name_ja if item.place else None,
            "latitude": item.place.latitude if item.place else None,
            "longitude": item.place.longitude if item.place else None,
            "dcterms:isPartOf": [s.slug for s in item.sets],
            "dcterms:relation": [r.identifier for r in item.related],
            "edm:rights": item.rights,
            "edm:isShownAt": urls["page"],
            "edm:object": iiif.media_url(base, item.images[0].id, "display") if item.images else None,
            "iiif:manifest": urls["manifest"],
            "dcterms:modified": item.updated_at.isoformat(),
        })
    return out


def to_json(store: Store, base: str) -> str:
    return json.dumps({"records": records(store, base)}, ensure_ascii=False, indent=2)


def to_csv(store: Store, base: str) -> str:
    """UTF-8 CSV (with BOM, so spreadsheet programs read the Japanese); lists joined with '|'."""
    return write_dict_csv(CSV_COLUMNS, ({k: "|".join(v) if isinstance(v, list) else v for k, v in record.items()}
                                        for record in records(store, base)), lineterminator="\n")

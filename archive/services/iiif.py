"""IIIF Presentation 3.0: a manifest per published item, a collection per item set.

Only published items: these are built with the anonymous actor whoever asks, so a
draft can never appear in a manifest or a collection. `base` is the server's own
URL (from the request), because IIIF ids must be absolute.

Images are served at fixed sizes by archive/routes.py (`/archive/media/{id}/{size}.jpg`),
which is what IIIF Image API level 0 without a service amounts to; the canvas carries
the display size.
"""

from __future__ import annotations

from archive.services import media, reading, rights, text
from kernel.actor import ANONYMOUS
from kernel.errors import NotFound
from kernel.store import Store

CONTEXT = "http://iiif.io/api/presentation/3/context.json"
PROVIDER_NAME = {"ja": "飯塚市歴史資料館", "en": "Iizuka City History Museum"}

_FIELD_LABELS = {
    "identifier": ("識別子", "Identifier"), "creator": ("作成者", "Creator"), "date": ("年代", "Date"),
    "type": ("種類", "Type"), "subject": ("主題", "Subject"), "format": ("形態", "Format"),
    "source": ("出典", "Source"), "coverage": ("範囲", "Coverage"), "place": ("場所", "Place"),
    "collection": ("コレクション", "Collection"), "relation": ("関連資料", "Relation"),
}
TYPE_LABELS = {
    "object": ("資料（もの）", "Object"), "document": ("文書", "Document"), "photograph": ("写真", "Photograph"),
    "building": ("建造物", "Building"), "site": ("遺跡・史跡", "Site"),
}


def _lang(ja: str | None, en: str | None) -> dict[str, list[str]]:
    value = {}
    if ja:
        value["ja"] = [ja]
    if en:
        value["en"] = [en]
    return value or {"none": ["—"]}


def _entry(field: str, ja: str | None, en: str | None = None) -> dict | None:
    if not ja and not en:
        return None
    label_ja, label_en = _FIELD_LABELS[field]
    return {"label": {"ja": [label_ja], "en": [label_en]}, "value": _lang(ja, en or ja)}


def item_urls(base: str, item_id: int) -> dict[str, str]:
    base = base.rstrip("/")
    return {"manifest": f"{base}/iiif/{item_id}/manifest", "page": f"{base}/archive?item={item_id}"}


def media_url(base: str, media_id: int, size: str) -> str:
    return f"{base.rstrip('/')}/archive/media/{media_id}/{size}.jpg"


IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"


def image_service_url(base: str, media_id: int) -> str:
    return f"{base.rstrip('/')}/iiif/image/{media_id}"


def image_info(store: Store, base: str, media_id: int) -> dict:
    """IIIF Image API 3 info.json, level 0: the fixed sizes the archive stores and may serve."""
    sizes = media.media_sizes(store, ANONYMOUS, media_id)
    width, height = max(sizes.values())
    return {
        "@context": IMAGE_CONTEXT,
        "id": image_service_url(base, media_id),
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": width,
        "height": height,
        "sizes": [{"width": w, "height": h} for w, h in sorted(set(sizes.values()))],
    }


def image_size_for(store: Store, media_id: int, region: str, size: str, rotation: str, quality: str) -> str:
    """Which stored size a level-0 request asks for ('thumb', 'display' or 'full'); NotFound otherwise."""
    sizes = media.media_sizes(store, ANONYMOUS, media_id)
    if region != "full" or rotation != "0" or quality != "default.jpg":
        raise NotFound("archive.error.no_media", media=media_id)
    if size == "max":
        return max(sizes, key=lambda k: sizes[k])
    for name, (w, h) in sizes.items():
        if size in (f"{w},{h}", f"{w},", f",{h}"):
            return name
    raise NotFound("archive.error.no_media", media=media_id)


def manifest(store: Store, base: str, item_id: int) -> dict:
    """The manifest of a published item (NotFound for any other)."""
    item = reading.get_item(store, ANONYMOUS, item_id)
    base = base.rstrip("/")
    urls = item_urls(base, item.id)
    document: dict = {
        "@context": CONTEXT,
        "id": urls["manifest"],
        "type": "Manifest",
        "label": _lang(item.title_ja, item.title_en),
        "metadata": _metadata(item),
        "rights": item.rights,
        "requiredStatement": {
            "label": {"ja": ["提供"], "en": ["Attribution"]},
            "value": {"ja": [f"{PROVIDER_NAME['ja']}（{rights.short_name(item.rights)}）"],
                      "en": [f"{PROVIDER_NAME['en']} ({rights.short_name(item.rights)})"]},
        },
        "provider": [{
            "id": f"{base}/archive",
            "type": "Agent",
            "label": {"ja": [PROVIDER_NAME["ja"]], "en": [PROVIDER_NAME["en"]]},
            "homepage": [{"id": f"{base}/archive", "type": "Text", "label": {"ja": ["学び デジタルアーカイブ"],
                          "en": ["Manabi digital archive"]}, "format": "text/html"}],
        }],
        "homepage": [{"id": urls["page"], "type": "Text", "label": _lang(item.title_ja, item.title_en),
                      "format": "text/html"}],
        "items": _canvases(item, base, urls["manifest"]),
    }
    document.update(_optional_parts(item, base, urls["manifest"]))
    return document


def _metadata(item) -> list[dict]:
    """The label/value pairs a viewer lists beside the images, in Japanese and English."""
    return [e for e in (
        _entry("identifier", item.identifier),
        _entry("creator", item.creator_ja, item.creator_en),
        _entry("date", item.date_text),
        _entry("type", *TYPE_LABELS[item.type]),
        _entry("subject", "、".join(item.subjects_ja) or None, "; ".join(item.subjects_en) or None),
        _entry("format", item.format),
        _entry("source", item.source),
        _entry("coverage", item.coverage),
        _entry("place", item.place.name_ja if item.place else None, item.place.name_en if item.place else None),
        _entry("collection", "、".join(s.title_ja for s in item.sets) or None,
               "; ".join(s.title("en") for s in item.sets) or None),
        _entry("relation", "、".join(r.title_ja for r in item.related) or None,
               "; ".join(r.title("en") for r in item.related) or None),
    ) if e]


def _canvases(item, base: str, manifest_url: str) -> list[dict]:
    """One canvas per image, each painted by its level-0 image service."""
    canvases = []
    for n, medium in enumerate(item.images, start=1):
        canvas_id = f"{manifest_url.rsplit('/', 1)[0]}/canvas/{n}"
        label = _lang(medium.label_ja, medium.label_en) if (medium.label_ja or medium.label_en) else {"none": [str(n)]}
        canvases.append({
            "id": canvas_id,
            "type": "Canvas",
            "label": label,
            "width": medium.width,
            "height": medium.height,
            "thumbnail": [{"id": media_url(base, medium.id, "thumb"), "type": "Image", "format": "image/jpeg"}],
            "items": [{
                "id": f"{canvas_id}/page",
                "type": "AnnotationPage",
                "items": [{
                    "id": f"{canvas_id}/page/image",
                    "type": "Annotation",
                    "motivation": "painting",
                    "target": canvas_id,
                    "body": {"id": media_url(base, medium.id, "display"), "type": "Image",
                             "format": "image/jpeg", "width": medium.width, "height": medium.height,
                             "service": [{"id": image_service_url(base, medium.id), "type": "ImageService3",
                                          "profile": "level0"}]},
                }],
            }],
            **({"rights": medium.rights} if medium.rights != item.rights else {}),
        })
    return canvases


def _optional_parts(item, base: str, manifest_url: str) -> dict:
    """What an item has only sometimes: summary, thumbnail, date, place, links, collections."""
    document: dict = {}
    summary_ja, summary_en = text.rich_to_plain(item.description_ja), text.rich_to_plain(item.description_en)
    if summary_ja or summary_en:
        document["summary"] = _lang(summary_ja or None, summary_en or None)
    if item.images:
        document["thumbnail"] = [{"id": media_url(base, item.images[0].id, "thumb"), "type": "Image",
                                  "format": "image/jpeg"}]
    if item.year_from is not None and item.year_from > 0:
        document["navDate"] = f"{item.year_from:04d}-01-01T00:00:00+09:00"
    if item.place:
        document["navPlace"] = {
            "id": f"{manifest_url}/place",
            "type": "FeatureCollection",
            "features": [{
                "id": f"{manifest_url}/place/1",
                "type": "Feature",
                "properties": {"label": _lang(item.place.name_ja, item.place.name_en)},
                "geometry": {"type": "Point", "coordinates": [item.place.longitude, item.place.latitude]},
            }],
        }
    if item.links:
        document["rendering"] = [{
            "id": link.url, "type": "Video" if link.kind == "video" else "Text",
            "label": _lang(link.label_ja, link.label_en) if (link.label_ja or link.label_en)
            else {"en": [link.kind]}, "format": "text/html",
        } for link in item.links]
    if item.sets:
        document["partOf"] = [{"id": f"{base}/iiif/collection/{s.slug}", "type": "Collection"} for s in item.sets]
    return document


def collection(store: Store, base: str, slug: str) -> dict:
    """A collection of the published items of one item set."""
    item_set, members = reading.get_set(store, ANONYMOUS, slug)
    base = base.rstrip("/")
    document = {
        "@context": CONTEXT,
        "id": f"{base}/iiif/collection/{item_set.slug}",
        "type": "Collection",
        "label": _lang(item_set.title_ja, item_set.title_en),
        "items": [{"id": item_urls(base, m.id)["manifest"], "type": "Manifest", "label": _lang(m.title_ja, m.title_en)}
                  for m in members],
    }
    summary_ja, summary_en = text.rich_to_plain(item_set.description_ja), text.rich_to_plain(item_set.description_en)
    if summary_ja or summary_en:
        document["summary"] = _lang(summary_ja or None, summary_en or None)
    return document


def top_collection(store: Store, base: str) -> dict:
    """The collection of all item sets that hold a published item."""
    base = base.rstrip("/")
    return {
        "@context": CONTEXT,
        "id": f"{base}/iiif/collection",
        "type": "Collection",
        "label": {"ja": ["飯塚市 デジタルアーカイブ"], "en": ["Iizuka City digital archive"]},
        "items": [{"id": f"{base}/iiif/collection/{s.slug}", "type": "Collection", "label": _lang(s.title_ja, s.title_en)}
                  for s in reading.list_sets(store, ANONYMOUS) if s.items],
    }

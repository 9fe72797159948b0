"""Pieces the archive's pages share: labels, the item form, an item's public view.

Rendering only: what to show comes from archive.services; no SQL and no rules here.
"""

from __future__ import annotations

import html

import streamlit as st

from archive.services import eras, items, media, rights, text
from kernel.errors import ManabiError
from kernel.ui import PageContext, md_escape
from kernel.ui.maps import MapPoint, point_map

ERA_KEYS = [key for key, _, _ in eras.ERA_FACETS]


def type_label(ctx: PageContext, kind: str) -> str:
    return ctx.t(f"archive.type.{kind}")


def status_label(ctx: PageContext, status: str) -> str:
    return ctx.t(f"archive.status.{status}")


def era_label(ctx: PageContext, key: str) -> str:
    return ctx.t(f"archive.era.{key}")


def years(ctx: PageContext, summary) -> str:
    """'1912' or '1912–1926' (BCE years as '300 BCE'), '—' when undated."""
    if summary.year_from is None:
        return "—"

    def one(year: int) -> str:
        return ctx.t("archive.item.bce", year=-year) if year < 0 else str(year)

    if summary.year_from == summary.year_to:
        return one(summary.year_from)
    return f"{one(summary.year_from)}–{one(summary.year_to)}"


def description_html(value: str | None) -> str:
    """A stored description, sanitised once more at display time (belt and braces)."""
    return text.rich(value) or ""


def thumbnail(ctx: PageContext, media_id: int | None, *, size: str = "thumb", caption: str | None = None,
              alt: str | None = None) -> None:
    """An item's picture; `alt` says what it shows to those who cannot see it (the item's title)."""
    if media_id is None:
        st.caption(ctx.t("archive.item.no_image"))
        return
    try:
        found = media.media_file(ctx.store, ctx.actor, media_id, size)
    except ManabiError:
        st.caption(ctx.t("archive.item.no_image"))
        return
    st.image(found.data, caption=caption, alt=alt or caption, width="stretch")


def item_form(ctx: PageContext, key: str, current: items.ItemInput | None, places: list[items.Place]) -> items.ItemInput | None:
    """The Dublin Core form of an item; returns the input when submitted."""
    t = ctx.t
    c = current or items.ItemInput(identifier="", title_ja="", type="object", rights=rights.COMMON[2])
    place_ids = [None, *[p.id for p in places]]
    place_names = {p.id: p.name(ctx.lang) for p in places}
    rights_choices = list(rights.COMMON) if c.rights in rights.COMMON else [c.rights, *rights.COMMON]
    with st.form(key, clear_on_submit=current is None):
        left, right = st.columns(2)
        identifier = left.text_input(t("archive.field.identifier"), c.identifier, help=t("archive.field.identifier_help"))
        kind = right.selectbox(t("archive.field.type"), items.TYPES, index=items.TYPES.index(c.type),
                               format_func=lambda k: type_label(ctx, k))
        title_ja = left.text_input(t("archive.field.title_ja"), c.title_ja)
        title_en = right.text_input(t("archive.field.title_en"), c.title_en or "")
        creator_ja = left.text_input(t("archive.field.creator_ja"), c.creator_ja or "")
        creator_en = right.text_input(t("archive.field.creator_en"), c.creator_en or "")
        date_text = left.text_input(t("archive.field.date"), c.date_text or "", help=t("archive.field.date_help"))
        place = right.selectbox(t("archive.field.place"), place_ids,
                                index=place_ids.index(c.place_id) if c.place_id in place_ids else 0,
                                format_func=lambda p: "—" if p is None else place_names[p])
        subjects_ja = left.text_input(t("archive.field.subjects_ja"), " | ".join(c.subjects_ja),
                                      help=t("archive.field.subjects_help"))
        subjects_en = right.text_input(t("archive.field.subjects_en"), " | ".join(c.subjects_en),
                                       help=t("archive.field.subjects_help"))
        description_ja = st.text_area(t("archive.field.description_ja"), c.description_ja or "",
                                      help=t("archive.field.description_help"))
        description_en = st.text_area(t("archive.field.description_en"), c.description_en or "")
        a, b, d = st.columns(3)
        fmt = a.text_input(t("archive.field.format"), c.format or "")
        source = b.text_input(t("archive.field.source"), c.source or "")
        coverage = d.text_input(t("archive.field.coverage"), c.coverage or "")
        rights_uri = st.selectbox(t("archive.field.rights"), rights_choices,
                                  index=rights_choices.index(c.rights) if c.rights in rights_choices else 0,
                                  format_func=lambda u: f"{rights.short_name(u)} — {u}")
        submitted = st.form_submit_button(t("archive.curate.save"), type="primary")
    if not submitted:
        return None
    split = lambda v: [s.strip() for s in v.replace(";", "|").split("|") if s.strip()]  # noqa: E731
    return items.ItemInput(
        identifier=identifier, title_ja=title_ja, title_en=title_en or None, type=kind, rights=rights_uri,
        creator_ja=creator_ja or None, creator_en=creator_en or None, date_text=date_text or None,
        subjects_ja=split(subjects_ja), subjects_en=split(subjects_en), description_ja=description_ja or None,
        description_en=description_en or None, format=fmt or None, source=source or None,
        coverage=coverage or None, place_id=place,
    )


def metadata_rows(ctx: PageContext, item: items.Item) -> list[dict]:
    """The Dublin Core fields of an item as label/value rows, in the visitor's language."""
    t = ctx.t
    rows = [
        (t("archive.field.identifier"), item.identifier),
        (t("archive.field.creator"), item.creator(ctx.lang)),
        (t("archive.field.date"), item.date_text and f"{item.date_text}（{years(ctx, item)}）"),
        (t("archive.field.type"), type_label(ctx, item.type)),
        (t("archive.field.subjects"), " · ".join(item.subjects(ctx.lang))),
        (t("archive.field.format"), item.format),
        (t("archive.field.source"), item.source),
        (t("archive.field.coverage"), item.coverage),
        (t("archive.field.place"), item.place.name(ctx.lang) if item.place else None),
        (t("archive.field.collection"), " · ".join(s.title(ctx.lang) for s in item.sets)),
        (t("archive.field.relation"), " · ".join(r.title(ctx.lang) for r in item.related)),
        (t("archive.field.rights"), f"{rights.short_name(item.rights)} ({item.rights})"),
    ]
    return [{t("archive.item.field"): k, t("archive.item.value"): v} for k, v in rows if v]


def metadata_table(ctx: PageContext, item: items.Item) -> str:
    """The metadata as an HTML table; every value is escaped, so nothing in it can run."""
    rows = "".join(
        f'<tr><th style="white-space:nowrap;text-align:left;padding-right:1em;vertical-align:top">'
        f"{html.escape(str(label))}</th><td>{html.escape(str(value))}</td></tr>"
        for label, value in (tuple(r.values()) for r in metadata_rows(ctx, item))
    )
    return f'<table style="width:100%;font-size:0.9em">{rows}</table>'


def show_item(ctx: PageContext, item: items.Item) -> None:
    """An item as the public sees it: images, links, description, metadata, map, related."""
    t = ctx.t
    st.header(md_escape(item.title(ctx.lang)))
    other = item.title_ja if ctx.lang == "en" else item.title_en
    if other and other != item.title(ctx.lang):
        st.caption(md_escape(other))
    if item.status != "published":
        st.warning(t("archive.item.not_public", status=status_label(ctx, item.status)), icon=":material/lock:")
    pictures, facts = st.columns([3, 2])
    with pictures:
        shown = item.images
        if shown:
            tabs = st.tabs([m.label(ctx.lang) or str(n) for n, m in enumerate(shown, start=1)]) if len(shown) > 1 else [st.container()]
            for tab, medium in zip(tabs, shown, strict=True):
                with tab:
                    thumbnail(ctx, medium.id, size="display", alt=medium.label(ctx.lang) or item.title(ctx.lang))
                    st.caption(t("archive.item.image_rights", rights=rights.short_name(medium.rights)))
                    if medium.downloadable and item.status == "published":  # the route serves the public's items
                        st.link_button(t("archive.item.download"), f"/archive/media/{medium.id}/full.jpg",
                                       icon=":material/download:")
                    elif not medium.downloadable:
                        st.caption(t("archive.item.no_download"))
        else:
            st.info(t("archive.item.no_image"))
        for link in item.links:
            st.link_button(f"{t(f'archive.link.{link.kind}')}: {link.label(ctx.lang) or link.url}", link.url,
                           icon=":material/view_in_ar:" if link.kind != "video" else ":material/movie:")
    with facts:
        description = description_html(item.description(ctx.lang))
        if description:
            st.markdown(description, unsafe_allow_html=True)
        st.markdown(metadata_table(ctx, item), unsafe_allow_html=True)
        if item.status == "published":
            st.markdown(f"[{t('archive.item.manifest')}](/iiif/{item.id}/manifest)")
    if item.place:
        st.subheader(t("archive.item.on_map"))
        point_map(ctx, [MapPoint(key=str(item.id), lat=item.place.latitude, lon=item.place.longitude,
                                 label=item.place.name(ctx.lang))], key=f"archive_item_map_{item.id}", height=300, clickable=False)

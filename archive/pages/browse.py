"""Digital archive (public): search and browse published items with facets; `?item=ID` shows one."""

from contextlib import suppress

import streamlit as st

from archive.pages import _shared as ui
from archive.services import items, reading, search
from kernel.errors import ManabiError
from kernel.ui import action, md_escape, page_context

ctx = page_context()
t = ctx.t
PAGE_SIZE = 24


def open_item(item_id: int) -> None:
    st.query_params["item"] = str(item_id)


def close_item() -> None:
    st.query_params.pop("item", None)


asked = st.query_params.get("item")
if asked is not None:
    st.button(t("archive.browse.back"), icon=":material/arrow_back:", on_click=close_item, key="archive_back")
    try:
        item = reading.get_item(ctx.store, ctx.actor, int(asked))
    except (ManabiError, ValueError):
        st.error(t("archive.error.no_item", item=asked))
        st.stop()
    # Count the view once per visit to this item (no visitor data is stored).
    seen = st.session_state.setdefault("_archive_seen", set())
    if item.status == "published" and item.id not in seen:
        seen.add(item.id)
        with suppress(ManabiError):  # a lost count must not stop anyone from looking
            search.record_view(ctx.store, ctx.clock, item.id)
    ui.show_item(ctx, item)
    if item.status == "published":
        with st.expander(t("archive.item.in_class"), icon=":material/qr_code_2:"):
            # The address pupils open on their tablets: this page, in the visitor's language.
            page_url = (st.context.url or "").split("?")[0] or "/archive"
            address = f"{page_url}?item={item.id}&lang={ctx.lang}"
            st.image(search.share_qr_png(address), width=220, alt=t("archive.item.qr_alt"))
            st.code(address, language=None)
            st.caption(t("archive.item.in_class_help"))
    if item.related:
        st.subheader(t("archive.item.related"))
        columns = st.columns(4)
        for n, related in enumerate(item.related):
            with columns[n % 4]:
                ui.thumbnail(ctx, related.thumb_id, alt=related.title(ctx.lang))
                st.button(md_escape(related.title(ctx.lang)), key=f"archive_related_{related.id}",
                          on_click=open_item, args=(related.id,))
    st.stop()

st.title(t("archive.browse.title"))
st.caption(t("archive.browse.intro"))

sets = reading.list_sets(ctx.store, ctx.actor)
set_titles = {s.id: s.title(ctx.lang) for s in sets}
query = st.text_input(t("archive.browse.search"), key="archive_query", placeholder=t("archive.browse.placeholder"))

facet_col, result_col = st.columns([1, 3])
with facet_col:
    st.subheader(t("archive.browse.facets"))
    types = st.multiselect(t("archive.field.type"), items.TYPES, key="archive_types",
                           format_func=lambda k: ui.type_label(ctx, k), placeholder=t("archive.browse.any"))
    era = st.selectbox(t("archive.browse.era"), [None, *ui.ERA_KEYS], key="archive_era",
                       format_func=lambda k: t("archive.browse.any") if k is None else ui.era_label(ctx, k))
    set_id = st.selectbox(t("archive.field.collection"), [None, *set_titles], key="archive_set",
                          format_func=lambda s: t("archive.browse.any") if s is None else set_titles[s])
    status = None
    if items.is_staff(ctx.actor):
        status = st.selectbox(t("archive.field.status"), [None, *items.STATUSES], key="archive_status",
                              format_func=lambda s: t("archive.browse.any") if s is None else ui.status_label(ctx, s))

page_no = int(st.session_state.get("archive_page", 1)) - 1
with action(ctx, rerun=False, stop=True):
    result = search.search(ctx.store, ctx.actor, query, types=types or None, era=era, set_id=set_id, status=status,
                          limit=PAGE_SIZE, offset=page_no * PAGE_SIZE)
if page_no and not result.items and result.total:  # the filters changed under a later page: back to 1
    st.session_state["archive_page"] = 1
    st.rerun()

with facet_col:
    # What the other choices would give, as counts (facets).
    counts = [f"{ui.type_label(ctx, k)} {n}" for k, n in sorted(result.facets["type"].items())]
    st.caption(t("archive.browse.by_type") + " " + " · ".join(counts) if counts else "")
    counts = [f"{ui.era_label(ctx, k)} {result.facets['era'][k]}" for k in ui.ERA_KEYS if k in result.facets["era"]]
    st.caption(t("archive.browse.by_era") + " " + " · ".join(counts) if counts else "")
    counts = [f"{md_escape(set_titles[int(k)])} {n}" for k, n in result.facets["set"].items() if int(k) in set_titles]
    st.caption(t("archive.field.collection") + ": " + " · ".join(counts) if counts else "")

with result_col:
    st.caption(t("archive.browse.count", count=t.number(result.total)))
    if not result.items:
        st.info(t("archive.browse.nothing"))
    columns = st.columns(4)
    for n, summary in enumerate(result.items):
        with columns[n % 4], st.container(border=True):
            ui.thumbnail(ctx, summary.thumb_id, alt=summary.title(ctx.lang))
            st.markdown(f"**{md_escape(summary.title(ctx.lang))}**")
            line = f"{ui.type_label(ctx, summary.type)} · {md_escape(summary.date_text) or '—'}"
            if summary.status != "published":
                line += f" · {ui.status_label(ctx, summary.status)}"
            st.caption(line)
            st.button(t("archive.browse.open"), key=f"archive_open_{summary.id}", on_click=open_item,
                      args=(summary.id,))
    pages = max(1, -(-result.total // PAGE_SIZE))
    if pages > 1:
        st.number_input(t("archive.browse.page", pages=pages), 1, pages, key="archive_page", step=1)

with st.expander(t("archive.browse.reuse")):
    st.markdown(t("archive.browse.reuse_text"))
    st.markdown("[CSV](/archive/export.csv) · [JSON](/archive/export.json) · [IIIF](/iiif/collection)")

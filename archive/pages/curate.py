"""Curators' desk: every item in every state; edit, media, review and publish, history."""

import streamlit as st

from archive.pages import _shared as ui
from archive.services import items, media, places_sets, reading, rights, search
from kernel.errors import ManabiError
from kernel.ui import action, flash, md_escape, page_context, show_error

ctx = page_context("curator", "city_admin")
t = ctx.t
is_curator = ctx.actor.has("curator")

st.title(t("archive.curate.title"))
counts = search.counts_by_status(ctx.store, ctx.actor)
for column, status in zip(st.columns(len(items.STATUSES)), items.STATUSES, strict=True):
    column.metric(ui.status_label(ctx, status), t.number(counts.get(status, 0)))


def act(fn, *args, done: str, **kwargs) -> None:
    """Run a service call; on success say so and rerun, else show why."""
    try:
        fn(ctx.store, ctx.clock, ctx.actor, *args, **kwargs)
    except ManabiError as exc:
        show_error(ctx, exc)
        return
    flash(done)
    st.rerun()


def take_step(service, item_id: int, done: str) -> None:
    """A workflow step pressed on an item: said done on the next run, or why it was refused
    (the item stays chosen either way)."""
    try:
        service(ctx.store, ctx.clock, ctx.actor, item_id)
    except ManabiError as exc:
        st.session_state["curate_refused"] = exc
    else:
        flash(done)


list_tab, new_tab, places_tab = st.tabs([t("archive.curate.items"), t("archive.curate.new"),
                                         t("archive.curate.places_sets")])

with list_tab:
    if "curate_pick" in st.session_state:  # a new item was just created: show it
        st.session_state["curate_item"] = st.session_state.pop("curate_pick")
        st.session_state["curate_status"] = "all"
    status = st.selectbox(t("archive.field.status"), ["all", *items.STATUSES], key="curate_status",
                          index=2 if not is_curator else 0,  # the administrator comes to review
                          format_func=lambda s: t("archive.browse.any") if s == "all" else ui.status_label(ctx, s))
    listed = reading.list_items(ctx.store, ctx.actor, None if status == "all" else status)
    st.dataframe(
        [{"ID": s.id, t("archive.field.identifier"): s.identifier, t("archive.field.title"): s.title(ctx.lang),
          t("archive.field.status"): ui.status_label(ctx, s.status), t("archive.curate.updated"): t.datetime(s.updated_at)}
         for s in listed],
        hide_index=True, width="stretch", height=260,
    )
    if not listed:
        st.info(t("archive.browse.nothing"))
        st.stop()
    by_id = {s.id: s for s in listed}
    kept = st.session_state.get("curate_item")
    if kept is not None and kept not in by_id:
        # The item being worked on left the filtered list (someone changed its state): keep it
        # chosen, so that a step pressed on it is answered for it, not for another item.
        by_id.update({s.id: s for s in reading.summaries(ctx.store, ctx.actor, [kept])})
    if st.session_state.get("curate_item") in by_id:
        # The labels carry each item's state, which a step just changed: written back, the choice
        # is sent to the browser with the new labels and stays on its item (a keyed choice
        # otherwise keeps its old label, misses it among the new ones and falls to the first item).
        st.session_state["curate_item"] = st.session_state["curate_item"]
    chosen = st.selectbox(t("archive.curate.choose"), list(by_id), key="curate_item",
                          format_func=lambda i: f"{by_id[i].identifier} — {by_id[i].title(ctx.lang)} ({ui.status_label(ctx, by_id[i].status)})")
    item = reading.get_item(ctx.store, ctx.actor, chosen)

    st.subheader(md_escape(f"{item.identifier} — {item.title(ctx.lang)}"))
    st.caption(t("archive.curate.state", status=ui.status_label(ctx, item.status)))
    # Only the steps the service says this person may take are offered; a step the rules
    # forbid them (four eyes: not publishing what one submitted) is said in words instead.
    steps = items.steps_for(ctx.actor, item)
    step_buttons = {  # step: (label, key, service, done message, primary)
        "submit": ("archive.curate.submit", "curate_submit", items.submit, "archive.curate.submitted", True),
        "publish": ("archive.curate.publish", "curate_publish", items.publish, "archive.curate.published", True),
        "return": ("archive.curate.return", "curate_return", items.return_to_draft, "archive.curate.returned", False),
        "withdraw": ("archive.curate.withdraw", "curate_withdraw", items.withdraw, "archive.curate.withdrawn", False),
    }
    buttons = st.columns(5)
    offered = [step for step in step_buttons if step in steps and steps[step] is None]
    for column, step in zip(buttons, offered, strict=False):
        label, key, service, done, primary = step_buttons[step]
        # A callback bound to this item: the press is answered for the item it was shown on,
        # even when someone changed the item meanwhile and the next run would not offer the step.
        column.button(t(label), key=key, type="primary" if primary else "secondary",
                      on_click=take_step, args=(service, item.id, t(done)))
    refused_step = st.session_state.pop("curate_refused", None)
    if refused_step is not None:
        show_error(ctx, refused_step)
    for refused in steps.values():
        if isinstance(refused, items.SamePerson):
            st.info(t("archive.curate.needs_second"), icon=":material/group:")
    if item.status == "draft" and is_curator and buttons[4].button(t("archive.curate.delete"), key="curate_delete"):
        act(items.delete_draft, item.id, done=t("archive.curate.deleted"))

    view_tab, edit_tab, media_tab, links_tab, history_tab = st.tabs([
        t("archive.curate.preview"), t("archive.curate.edit"), t("archive.curate.media"),
        t("archive.curate.relations"), t("archive.curate.history")])
    with view_tab:
        ui.show_item(ctx, item)
    editable = is_curator and item.status in items.EDITABLE
    with edit_tab:
        if not editable:
            st.info(t("archive.curate.not_editable"))
        else:
            changed = ui.item_form(ctx, f"edit_{item.id}", item.as_input(), places_sets.list_places(ctx.store))
            if changed is not None:
                act(items.update_item, item.id, changed, done=t("archive.curate.saved"))
    with media_tab:
        for medium in item.media:
            left, right = st.columns([4, 1])
            label = medium.label(ctx.lang) or (medium.url or "")
            left.write(f"{t(f'archive.link.{medium.kind}')} — {label} · {rights.short_name(medium.rights)}")
            if editable and right.button(t("archive.curate.remove"), key=f"curate_rm_{medium.id}"):
                act(media.remove_media, medium.id, done=t("archive.curate.saved"))
        if editable:
            with st.form(f"image_{item.id}", clear_on_submit=True):
                upload = st.file_uploader(t("archive.curate.image"), type=["jpg", "jpeg", "png", "tif", "tiff", "webp"])
                label_ja = st.text_input(t("archive.curate.label_ja"))
                label_en = st.text_input(t("archive.curate.label_en"))
                media_rights = st.selectbox(t("archive.field.rights"), [None, *rights.COMMON],
                                            format_func=lambda u: t("archive.curate.item_rights") if u is None else rights.short_name(u))
                if st.form_submit_button(t("archive.curate.add_image")) and upload is not None:
                    act(media.add_image, item.id, upload.getvalue(), file_name=upload.name, rights_uri=media_rights,
                        label_ja=label_ja or None, label_en=label_en or None, done=t("archive.curate.saved"))
            with st.form(f"link_{item.id}", clear_on_submit=True):
                kind = st.selectbox(t("archive.curate.link_kind"), items.LINK_KINDS,
                                    format_func=lambda k: t(f"archive.link.{k}"))
                url = st.text_input(t("archive.curate.url"))
                link_label = st.text_input(t("archive.curate.label_ja"), key=f"link_label_{item.id}")
                if st.form_submit_button(t("archive.curate.add_link")):
                    act(media.add_link, item.id, kind, url, label_ja=link_label or None, done=t("archive.curate.saved"))
    with links_tab:
        sets = reading.list_sets(ctx.store, ctx.actor)
        if is_curator and sets:
            set_titles = {s.id: s.title(ctx.lang) for s in sets}
            target = st.selectbox(t("archive.field.collection"), list(set_titles), format_func=set_titles.get,
                                  key="curate_set")
            if st.button(t("archive.curate.add_to_set"), key="curate_add_set"):
                act(places_sets.add_to_set, target, item.id, done=t("archive.curate.saved"))
        if is_curator:
            others = {s.id: s for s in reading.list_items(ctx.store, ctx.actor) if s.id != item.id}
            other = st.selectbox(t("archive.field.relation"), list(others), key="curate_relate",
                                 format_func=lambda i: f"{others[i].identifier} — {others[i].title(ctx.lang)}")
            if st.button(t("archive.curate.relate"), key="curate_relate_btn"):
                act(places_sets.relate, item.id, other, done=t("archive.curate.saved"))
    with history_tab:
        st.dataframe(
            [{t("archive.curate.when"): t.datetime(h.at), t("archive.curate.who"): h.actor_login,
              t("archive.curate.what"): t(f"archive.action.{h.action}") if t.has(f"archive.action.{h.action}") else h.action,
              t("archive.curate.detail"): ", ".join(f"{k}={v}" for k, v in h.detail.items())}
             for h in reading.history(ctx.store, ctx.actor, item.id)],
            hide_index=True, width="stretch",
        )

with new_tab:
    if not is_curator:
        st.info(t("archive.curate.curators_only"))
    else:
        created = ui.item_form(ctx, "new_item", None, places_sets.list_places(ctx.store))
        if created is not None:
            try:
                new_id = items.create_item(ctx.store, ctx.clock, ctx.actor, created)
            except ManabiError as exc:
                show_error(ctx, exc)
            else:
                st.session_state["curate_pick"] = new_id  # shown on the next run
                flash(t("archive.curate.created", identifier=created.identifier))
                st.rerun()

with places_tab:
    places = places_sets.list_places(ctx.store)
    st.dataframe([{t("archive.field.place"): p.name(ctx.lang), t("archive.curate.lat"): p.latitude,
                   t("archive.curate.lon"): p.longitude} for p in places], hide_index=True, width="stretch")
    if is_curator:
        with st.form("new_place", clear_on_submit=True):
            a, b = st.columns(2)
            name_ja = a.text_input(t("archive.curate.place_ja"))
            name_en = b.text_input(t("archive.curate.place_en"))
            lat = a.number_input(t("archive.curate.lat"), -90.0, 90.0, 33.64, format="%.5f")
            lon = b.number_input(t("archive.curate.lon"), -180.0, 180.0, 130.69, format="%.5f")
            if st.form_submit_button(t("archive.curate.add_place")):
                with action(ctx, done=t("archive.curate.saved")):
                    places_sets.add_place(ctx.store, ctx.actor, name_ja, name_en or None, lat, lon)
    st.dataframe([{"slug": s.slug, t("archive.field.collection"): s.title(ctx.lang), t("archive.curate.count"): s.items}
                  for s in reading.list_sets(ctx.store, ctx.actor)], hide_index=True, width="stretch")
    if is_curator:
        with st.form("new_set", clear_on_submit=True):
            slug = st.text_input("slug", help=t("archive.curate.slug_help"))
            a, b = st.columns(2)
            set_ja = a.text_input(t("archive.field.title_ja"))
            set_en = b.text_input(t("archive.field.title_en"))
            if st.form_submit_button(t("archive.curate.add_set")):
                with action(ctx, done=t("archive.curate.saved")):
                    places_sets.create_set(ctx.store, ctx.actor, slug, set_ja, set_en or None)

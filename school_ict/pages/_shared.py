"""Bits the School ICT pages share: the school picker, labels, device tables.
Streamlit only; the rules stay in services/."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from kernel.ui import PageContext
from school_ict.services import registry

DEVICE_PAGE = str(Path(__file__).with_name("device.py"))


def school_names(ctx: PageContext) -> dict[str, str]:
    """School code -> name in the visitor's language, for tables that would show codes."""
    return {s.code: s.name(ctx.lang) for s in registry.list_schools(ctx.store, ctx.actor)}


def device_list(ctx: PageContext, table, tags: list[str], *, key: str, **options) -> None:
    """A table of devices whose rows lead to the device: choosing a row opens its page."""
    event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key=key,
                         **options)
    chosen = event.selection.rows
    if chosen:
        st.switch_page(DEVICE_PAGE, query_params={"tag": tags[chosen[0]]})


def pick_school(ctx: PageContext, *, allow_all: bool = True, key: str = "ict_school") -> int | None:
    """The board picks a school (or the whole city); everyone else sees their own school."""
    t = ctx.t
    schools = registry.list_schools(ctx.store, ctx.actor)
    names = {s.id: f"{s.code} {s.name(ctx.lang)}" for s in schools}
    if ctx.actor.has("city_admin"):
        options = ([None] if allow_all else []) + list(names)
        return st.selectbox(t("ict.dashboard.school"), options, key=key,
                            format_func=lambda s: t("ict.dashboard.all_schools") if s is None else names[s])
    school_id = ctx.actor.school_id
    st.caption(t("ict.dashboard.your_school", school=names.get(school_id, "—")))
    return school_id


def class_label(t, grade: int | None, class_name: str | None) -> str:
    if grade is None:
        return ""
    return t("ict.class_label", grade=grade, name=class_name)


def device_table(ctx: PageContext, devices: list[registry.Device]) -> list[dict]:
    t = ctx.t
    names = school_names(ctx)
    return [
        {
            t("ict.col.asset_tag"): d.asset_tag,
            t("ict.col.kind"): t(f"ict.kind.{d.kind}"),
            t("ict.col.model"): d.model,
            t("ict.col.status"): t(f"ict.status.{d.status}"),
            t("ict.col.holder"): (class_label(t, d.class_grade, d.class_name) if d.classroom_id else d.holder),
            t("ict.col.cart"): d.cart or "",
            t("ict.col.school"): names.get(d.school_code, d.school_code),
            t("ict.col.last_seen"): t.datetime(d.last_seen_at, "short") if d.last_seen_at else "",
            t("ict.col.support_end"): t.date(d.support_end) if d.support_end else "",
        }
        for d in devices
    ]


def device_frame_table(ctx: PageContext, frame: pl.DataFrame) -> pl.DataFrame:
    """A registry.device_frame with labels in the visitor's language."""
    t = ctx.t
    class_template = t("ict.class_label", grade="{}", name="{}")
    return frame.select(
        pl.col("asset_tag").alias(t("ict.col.asset_tag")),
        pl.col("kind").replace_strict({k: t(f"ict.kind.{k}") for k in registry.KINDS}).alias(t("ict.col.kind")),
        pl.col("model").alias(t("ict.col.model")),
        pl.col("status").replace_strict({s: t(f"ict.status.{s}") for s in registry.STATUSES})
        .alias(t("ict.col.status")),
        pl.coalesce(pl.col("holder"), pl.format(class_template, "class_grade", "class_name"), pl.lit(""))
        .alias(t("ict.col.holder")),
        pl.col("cart").fill_null("").alias(t("ict.col.cart")),
        pl.col("school_code").replace(school_names(ctx)).alias(t("ict.col.school")),
        pl.col("last_seen_at").dt.convert_time_zone("Asia/Tokyo").dt.strftime("%Y-%m-%d %H:%M").fill_null("")
        .alias(t("ict.col.last_seen")),
        pl.col("support_end").cast(pl.Utf8).fill_null("").alias(t("ict.col.support_end")),
    )


def show_bulk_result(ctx: PageContext, result: registry.BulkResult) -> None:
    t = ctx.t
    if result.done:
        st.success(t("ict.checkout.done", count=len(result.done)))
    if result.refused:
        st.warning(t("ict.checkout.refused", count=len(result.refused)))
        st.dataframe([{t("ict.col.tag"): tag, t("ict.col.reason"): t.error(exc)} for tag, exc in result.refused],
                     hide_index=True)

"""The prefecture's board of education: learning across the municipalities sharing the system,
from the lake's figures (computed by `manabi lake board`, on Spark or DuckDB, or here)."""

import altair as alt
import polars as pl
import streamlit as st

from kernel import offers
from kernel.csv_export import write_csv_bytes
from kernel.provided import provided
from kernel.ui import page_context
from lake.services import board

ctx = page_context("city_admin")
t = ctx.t
lang = "en" if ctx.lang == "en" else "ja"

st.title(t("lake.board.title"))
st.caption(t("lake.board.intro"))
shown = board.board_page(ctx.actor, ctx.clock)
if shown.lake is None:
    st.info(t("lake.board.no_lake"))
    st.stop()
if st.button(t("lake.board.recompute"), icon=":material/refresh:", key="lake_recompute"):
    with st.spinner(t("lake.board.computing")):
        shown = board.board_page(ctx.actor, ctx.clock, compute=True)
figures = shown.figures
if figures is None:
    st.info(t("lake.board.no_results"))
    st.stop()
st.caption(t("lake.board.computed", engine=figures["engine"], at=figures["computed_at"][:16].replace("T", " "),
             statements=f"{figures['statements']:,}", seconds=figures["seconds"]))

views = {name: pl.DataFrame(rows, infer_schema_length=None) for name, rows in figures["views"].items()}
# Subjects in the reader's language, as learning analytics names them (when it is part of the portal).
subject_label = provided(offers.ANALYTICS_SUBJECT_LABEL)
if subject_label is not None:
    views = {name: frame.with_columns(pl.col("subject").map_elements(lambda s: subject_label(t, s),
                                                                     return_dtype=pl.String))
             if "subject" in frame.columns and not frame.is_empty() else frame for name, frame in views.items()}
codes = sorted(set(views["board"]["municipality"].to_list()) if not views["board"].is_empty() else [])
chosen = st.selectbox(t("lake.board.municipality_filter"), [None, *codes], key="lake_municipality",
                      format_func=lambda c: t("lake.board.all") if c is None else c)


def of_chosen(frame: pl.DataFrame) -> pl.DataFrame:
    return frame if chosen is None or "municipality" not in frame.columns else frame.filter(
        pl.col("municipality") == chosen)


PERCENT = {"mastery", "completion"}


def table(frame: pl.DataFrame, columns: list[tuple[str, str]], key: str) -> None:
    """The frame's columns under the reader's words, with a CSV of the same."""
    if frame.is_empty():
        st.info(t("lake.board.empty"))
        return
    picked = frame.select([pl.col(source).alias(t(f"lake.column.{word}")) for source, word in columns])
    st.dataframe(picked, hide_index=True, width="stretch",
                 column_config={t(f"lake.column.{w}"): st.column_config.NumberColumn(format="percent")
                                for _, w in columns if w in PERCENT})
    st.download_button(t("lake.board.download"), write_csv_bytes(picked.columns, picked.rows()),
                       file_name=f"prefecture-{key}.csv", mime="text/csv", key=f"lake_csv_{key}")


by_school, by_code, on_task = st.tabs([t("lake.board.tab_board"), t("lake.board.tab_mastery"),
                                       t("lake.board.tab_time")])
with by_school:
    table(of_chosen(views["board"]), [("municipality", "municipality"), (f"school_{lang}", "school"),
                                      ("grade", "grade"), ("subject", "subject"), (f"unit_{lang}", "unit"),
                                      ("unit_code", "unit_code"), ("pupils", "pupils"), ("mastery", "mastery"),
                                      ("completion", "completion")], "board")
with by_code:
    mastery = views["mastery"]
    if not mastery.is_empty():
        # Each unit a dot at its grade (unit names repeat from grade to grade), coloured by subject.
        st.altair_chart(alt.Chart(mastery).mark_circle(size=90, opacity=0.8).encode(
            x=alt.X("grade:O", title=t("lake.column.grade"), axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("subject:N"),
            y=alt.Y("mastery:Q", title=t("lake.column.mastery"), axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("subject:N", title=t("lake.column.subject")),
            tooltip=[alt.Tooltip("unit_code:N", title=t("lake.column.unit_code")),
                     alt.Tooltip(f"unit_{lang}:N", title=t("lake.column.unit")),
                     alt.Tooltip("pupils:Q", title=t("lake.column.pupils")),
                     alt.Tooltip("mastery:Q", title=t("lake.column.mastery"), format=".0%")],
        ).properties(title=t("lake.board.chart_mastery"), height=320, padding={"left": 12}), width="stretch")
    table(mastery, [("unit_code", "unit_code"), ("subject", "subject"), ("grade", "grade"), (f"unit_{lang}", "unit"),
                    ("municipalities", "municipalities"), ("pupils", "pupils"), ("mastery", "mastery"),
                    ("completion", "completion")], "mastery")
with on_task:
    table(of_chosen(views["time"]), [("municipality", "municipality"), (f"school_{lang}", "school"),
                                     ("grade", "grade"), ("month", "month"), ("pupils", "pupils"),
                                     ("minutes", "minutes"), ("minutes_per_pupil", "minutes_per_pupil")], "time")

"""The learning facts analytics offers other modules (offered as "analytics.statement_facts" and
"analytics.units"; the lake exports them to the prefecture): each statement's typed columns and
its pupil's key, never the statement's JSON, as lazy DuckDB relations, so that the taker's query
(a COPY to Parquet) reads only the columns and rows it names."""

from __future__ import annotations

import duckdb


def statement_facts(cur: duckdb.DuckDBPyConnection, after_seq: int,
                    up_to_seq: int | None = None) -> duckdb.DuckDBPyRelation:
    """Statements with after_seq < seq <= up_to_seq (seqs rise as statements arrive). `pupil_key`
    is the learner id, or the actor's key for an actor not on the roster: the taker pseudonymises it."""
    upper = "" if up_to_seq is None else f" AND seq <= {int(up_to_seq)}"
    return cur.sql(f"""
        SELECT CAST(id AS VARCHAR) AS statement_id, seq, ts, coalesce(learner_id, actor_key) AS pupil_key,
               school_id, grade, class_name, verb_id, object_id AS activity_id, unit_code, score_scaled,
               success, completion, duration_s, CAST(voids_id AS VARCHAR) AS voids_id, voided
        FROM analytics_statements WHERE seq > {int(after_seq)}{upper}""")


def units(cur: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Curriculum units by 学習指導要領コード."""
    return cur.sql("SELECT code AS unit_code, subject, grade, name_ja, name_en FROM analytics_units")

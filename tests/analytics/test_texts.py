"""Statement texts: kept exactly, plain for small batches, in zstd blocks for large ones."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa

from analytics import bench
from analytics.services import bulk, lrs, texts
from kernel.actor import SYSTEM


def lines_for(count: int) -> list[str]:
    return [json.dumps({"n": n, "text": f"学び {n} \"quoted\" \\ back\tslash"}, ensure_ascii=n % 2 == 0)
            for n in range(count)]


def test_blocks_and_plain_rows_give_back_each_text_exactly(store):
    many = lines_for(texts.BLOCK * 2 + 17)  # two full blocks and a short one
    few = lines_for(texts.SMALLEST_BLOCKED_BATCH - 1)
    with store.transaction() as cur:
        texts.save_lines(cur, 1, pa.array([line + "\n" for line in many], pa.large_string()))
        cur.execute("CREATE TEMP TABLE few AS SELECT unnest(?::BIGINT[]) AS seq, unnest(?::VARCHAR[]) AS raw",
                    [list(range(5001, 5001 + len(few))), few])
        assert texts.save(cur, "few") == len(few)
    kinds = store.query("SELECT zstd IS NOT NULL, count(*) FROM analytics_statement_texts GROUP BY ALL ORDER BY 1")
    assert kinds == [(False, len(few)), (True, 3)]
    wanted = random.Random(4).sample(range(1, len(many) + 1), 60) + [len(many), 5001, 5001 + len(few) - 1]
    found = texts.fetch(store.cursor(), wanted + [len(many) + 1, 4999])  # two that were never stored
    assert found == {seq: (many[seq - 1] if seq <= len(many) else few[seq - 5001]) for seq in wanted}


def test_a_file_larger_than_a_row_group_is_stored_whole(store, clock, tmp_path):
    """130,000 lines (DuckDB writes 122,880 rows per row group; one version silently lost such
    inserts into a temporary table made from an empty frame)."""
    path = Path(tmp_path) / "big.jsonl"
    bench._write_jsonl(store, path, 130_000)
    result = bulk.import_jsonl(store, clock, SYSTEM, path)
    assert result["added"] == result["read_compiled"] == 130_000
    assert lrs.statement_count(store) == 130_000
    sent = path.read_text(encoding="utf-8").splitlines()
    for line in (sent[0], sent[64_999], sent[-1]):
        statement = json.loads(line)
        got = lrs.get_statement(store, statement["id"])
        assert {k: v for k, v in got.items() if k not in ("stored", "authority", "version")} == statement


def test_statements_far_apart_are_found_by_either_lookup(store):
    """A few ranges of seqs are looked up range by range, many through one ASOF join."""
    lines = [f'{{"n":{n}}}' for n in range(texts.BLOCK * 60)]
    with store.transaction() as cur:
        texts.save_lines(cur, 100, pa.array([line + "\n" for line in lines], pa.large_string()))
    for step in (texts.BLOCK * 20, texts.BLOCK + 1):  # 3 ranges, then 60
        wanted = list(range(100, 100 + len(lines), step))
        assert texts.fetch(store.cursor(), wanted) == {seq: lines[seq - 100] for seq in wanted}


def test_a_file_gives_back_its_lines_whatever_its_line_ends(store, clock, tmp_path):
    """A file that is exactly its texts is compressed from its own bytes; CRLF line ends, blank
    lines or no newline at the end take the copying path. Both keep each line as sent."""
    source = Path(tmp_path) / "source.jsonl"
    bench._write_jsonl(store, source, 4 * texts.BLOCK)
    sent = source.read_text(encoding="utf-8").splitlines()
    quarter = texts.BLOCK
    files = {"plain.jsonl": "\n".join(sent[:quarter]) + "\n",
             "crlf.jsonl": "\r\n".join(sent[quarter:2 * quarter]) + "\r\n",
             "blank.jsonl": "\n".join(sent[2 * quarter:3 * quarter - 7]) + "\n\n \t\n" + "\n".join(sent[3 * quarter - 7:3 * quarter]),
             "no_newline_at_end.jsonl": "\n".join(sent[3 * quarter:])}
    for name, content in files.items():
        path = Path(tmp_path) / name
        path.write_bytes(content.encode("utf-8"))
        assert bulk.import_jsonl(store, clock, SYSTEM, path)["added"] == quarter, name
    ids = {json.loads(line)["id"]: line for line in sent}
    seqs = dict(store.query("SELECT id::VARCHAR, seq FROM analytics_statements"))
    found = texts.fetch(store.cursor(), seqs.values())
    assert {statement_id: found[seqs[statement_id]] for statement_id in ids} == ids

"""Statement texts: each statement's JSON exactly as received, by seq (analytics_statement_texts).

The dashboards never read them; a request for statements reads the few it returns. So a
large batch (a bulk file) is kept as zstd-compressed blocks of BLOCK consecutive statements,
one line each (about 15 times smaller than the text, and compressed on both cores while the
import runs); a small batch (an app's POST) and statements written by SQL keep their text
plain, which DuckDB compresses itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import zstandard

BLOCK = 512  # statements per compressed block
SMALLEST_BLOCKED_BATCH = 64  # below this, plain rows (a block of a few lines compresses poorly)
_LEVEL = 1  # as fast as 3 on these texts, and smaller (6.7 MB per 200,000 bench lines against 7.7)


def save(cur, source: str) -> int:
    """Keep the texts of `source` (a table or subquery with columns seq, raw; the seqs of a
    batch consecutive) inside the caller's transaction. Returns how many were kept."""
    count = cur.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    if count < SMALLEST_BLOCKED_BATCH:
        cur.execute(f"INSERT INTO analytics_statement_texts SELECT seq, seq, NULL, raw FROM {source}")
        return count
    lines = cur.execute(f"SELECT seq, raw || chr(10) AS line FROM {source} ORDER BY seq").arrow().read_all()
    seqs = lines.column("seq").to_numpy()
    if seqs[-1] - seqs[0] + 1 != len(seqs):
        raise ValueError("the seqs of a batch of texts must be consecutive")
    save_lines(cur, int(seqs[0]), lines.column("line"))
    return count


def save_lines(cur, first_seq: int, lines: pa.Array | pa.ChunkedArray) -> None:
    """Keep `lines` (texts each ending in a newline) as the texts of first_seq, first_seq + 1, …
    in zstd blocks of BLOCK lines, inside the caller's transaction."""
    save_packed(cur, first_seq, pack(lines))


@dataclass(frozen=True)
class Packed:
    """Texts compressed into blocks (pack), not yet given seqs (save_packed)."""
    count: int
    blocks: list[bytes]


def pack(lines: pa.Array | pa.ChunkedArray) -> Packed:
    """`lines` (each ending in a newline) compressed in blocks of BLOCK, on every core, with no
    Python loop over statements. Needs no database: a caller may run it beside other work."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    if not pa.types.is_large_string(lines.type):  # 64-bit offsets below
        lines = lines.cast(pa.large_string())
    count = len(lines)
    if not count:
        return Packed(0, [])
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + count + 1]
    return pack_buffer(lines.buffers()[2], offsets)


def pack_buffer(data, offsets: np.ndarray) -> Packed:
    """The lines data[offsets[i]:offsets[i + 1]] (each ending in a newline; `data` any buffer,
    e.g. a file's bytes) compressed in blocks of BLOCK, as pack does, without copying them."""
    count = len(offsets) - 1
    if count <= 0:
        return Packed(0, [])
    offsets = offsets.astype(np.uint64)
    starts = offsets[0:-1:BLOCK]
    ends = np.append(starts[1:], offsets[-1])
    segments = np.column_stack([starts, ends - starts]).astype(np.uint64)
    blocks = zstandard.ZstdCompressor(level=_LEVEL).multi_compress_to_buffer(
        zstandard.BufferWithSegments(data, segments.tobytes()), threads=-1)
    return Packed(count, [blocks[k].tobytes() for k in range(len(blocks))])


def save_packed(cur, first_seq: int, packed: Packed) -> None:
    """Keep packed texts as those of first_seq, first_seq + 1, … inside the caller's transaction."""
    if not packed.count:
        return
    firsts = np.arange(first_seq, first_seq + packed.count, BLOCK, dtype=np.int64)
    frame = pl.DataFrame({
        "first_seq": firsts,
        "last_seq": np.append(firsts[1:] - 1, first_seq + packed.count - 1),
        "zstd": packed.blocks,
    }, schema={"first_seq": pl.Int64, "last_seq": pl.Int64, "zstd": pl.Binary})
    cur.register("texts_blocks", frame.__arrow_c_stream__())  # read once: see bulk._read_once
    try:
        cur.execute("INSERT INTO analytics_statement_texts SELECT first_seq, last_seq, zstd, NULL FROM texts_blocks")
    finally:
        cur.unregister("texts_blocks")


_FEW_RANGES = 50


def _holders_sql(wanted: list[int]) -> str:
    """SQL giving the first_seq of each row that holds one of `wanted` (sorted; the parameter).
    A row holding seq s starts in [s - BLOCK + 1, s]: for a few such ranges, one range query
    each, which DuckDB answers from the first_seq zone maps in about a millisecond; for many,
    an ASOF join over every row's first_seq (about 60 ms on 5 million rows)."""
    ranges: list[list[int]] = []
    for seq in wanted:
        if ranges and seq - BLOCK + 1 <= ranges[-1][1] + 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq - BLOCK + 1, seq])
    if len(ranges) <= _FEW_RANGES:
        rows = " UNION ALL ".join(f"SELECT first_seq, last_seq FROM analytics_statement_texts "
                                  f"WHERE first_seq BETWEEN {int(low)} AND {int(high)}" for low, high in ranges)
        return (f"SELECT DISTINCT t.first_seq FROM ({rows}) t JOIN (SELECT unnest(?::BIGINT[]) AS seq) q "
                f"ON q.seq BETWEEN t.first_seq AND t.last_seq")
    return ("SELECT t.first_seq FROM (SELECT unnest(?::BIGINT[]) AS seq) q "
            "ASOF JOIN (SELECT first_seq, last_seq FROM analytics_statement_texts) t ON q.seq >= t.first_seq "
            "WHERE q.seq <= t.last_seq")


def fetch(cur, seqs: Iterable[int]) -> dict[int, str]:
    """The texts of these statements, by seq."""
    wanted = sorted({int(s) for s in seqs})
    if not wanted:
        return {}
    firsts = sorted({r[0] for r in cur.execute(_holders_sql(wanted), [wanted]).fetchall()})
    found: dict[int, str] = {}
    if not firsts:
        return found
    rows = cur.execute("SELECT first_seq, zstd, plain FROM analytics_statement_texts "
                       f"WHERE first_seq IN ({', '.join(str(int(f)) for f in firsts)})").fetchall()
    want = set(wanted)
    unpack = zstandard.ZstdDecompressor()
    for first, packed, plain in rows:
        if plain is not None:
            found[first] = plain
            continue
        for offset, line in enumerate(unpack.decompress(packed).decode().split("\n")[:-1]):
            if first + offset in want:
                found[first + offset] = line
    return found

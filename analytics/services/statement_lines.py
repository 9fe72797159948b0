"""The lines of a JSONL file of statements, read once by the compiled reader (_xapi_scan.c).

Each line is blank, of the common shape of an app's statement (then its typed facts are read
too), or other: unusual but maybe valid, or broken, which the full validator decides. The
reader runs without Python's lock, so the file is cut in as many ranges as there are cores
and read on all of them.
"""

from __future__ import annotations

import mmap
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from analytics.services import _xapi_scan

BLANK, FAST, OTHER, NOT_UTF8 = 0, 1, 2, 3
Data = bytes | bytearray | mmap.mmap  # the bytes read: anything with the buffer protocol and find()
_MIN_RANGE = 1 << 20  # smaller data is read on one core: starting threads would cost more

# The facts of a line of the common shape, as the reader gives them (lrs.ROW_COLUMNS'
# meaning; object_type, voids_id and version are the same for all such lines: see FACTS_SQL).
_STRINGS = ("id", "actor_key", "learner_id", "verb_id", "object_id", "activity_name", "unit_code",
            "registration", "actor_name", "definition")
_FIXED = {"ts": pa.timestamp("us", tz="UTC"), "score_scaled": pa.float64(), "duration_s": pa.float64(),
          "success": pa.bool_(), "completion": pa.bool_()}


@dataclass
class Lines:
    """The lines of data up to size: where each starts and ends (without its line end) and its
    status; facts: the facts of the FAST lines, with n, the line's place among the non-blank ones."""
    data: Data
    size: int
    starts: np.ndarray
    ends: np.ndarray
    status: np.ndarray
    facts: pa.Table

    @property
    def count(self) -> int:
        return len(self.status)

    @property
    def statements(self) -> int:
        return int(np.count_nonzero(self.status != BLANK))

    def all_fast(self) -> bool:
        return bool(np.all((self.status == FAST) | (self.status == BLANK)))

    def all_utf8(self) -> bool:
        return not bool(np.any(self.status == NOT_UTF8))

    def others(self) -> list[tuple[int, int, str, bool]]:
        """The lines not of the common shape: (index, n, text, whether UTF-8) each."""
        places = np.cumsum(self.status != BLANK) - 1
        found = []
        for index in np.flatnonzero((self.status == OTHER) | (self.status == NOT_UTF8)).tolist():
            raw = bytes(self.data[self.starts[index]:self.ends[index]])
            utf8 = self.status[index] == OTHER
            found.append((index, int(places[index]), raw.decode("utf-8", "strict" if utf8 else "replace"), utf8))
        return found

    def texts(self) -> pa.Table:
        """The lines' texts without copying them (all lines must be UTF-8): raw, a string
        array of the lines and what lies between them (line ends, blank lines), and n, each
        non-blank line's place (-1 for the rest). Keep `WHERE n >= 0`."""
        count = self.count
        bounds = np.empty(2 * count + 1, dtype=np.int64)
        bounds[0:-1:2], bounds[1:-1:2], bounds[-1] = self.starts, self.ends, self.size
        pieces = pa.Array.from_buffers(pa.large_string(), 2 * count, [None, pa.py_buffer(bounds.tobytes()),
                                                                      pa.py_buffer(self.data)])
        n = np.full(2 * count, -1, dtype=np.int64)
        non_blank = self.status != BLANK
        n[0::2][non_blank] = np.arange(int(np.count_nonzero(non_blank)))
        return pa.table({"n": _int64s(n), "raw": pieces})

    def packed_offsets(self) -> np.ndarray | None:
        """When the data is its non-blank lines exactly, each ending in a newline (no blank
        line, no CR, a newline at the end): where each starts, and the end. Else None."""
        if not self.count or np.any(self.status == BLANK) or self.ends[-1] + 1 != self.size:
            return None
        if np.any(self.starts[1:] != self.ends[:-1] + 1):
            return None
        return np.append(self.starts, self.size)


def read(data: Data, size: int | None = None, workers: int | None = None, begin: int = 0) -> Lines:
    """Every line of data[begin:size] (all of data by default), on `workers` cores (all by
    default). Where lines start and end is told as places in data."""
    size = len(data) if size is None else size
    workers = max(1, min(workers or os.cpu_count() or 1, (size - begin) // _MIN_RANGE or 1))
    cuts = [begin]
    for part in range(1, workers):
        found = data.find(b"\n", begin + (size - begin) * part // workers, size)
        cut = size if found < 0 else found + 1  # just after a line's end
        if cuts[-1] < cut < size:
            cuts.append(cut)
    cuts.append(size)
    ranges = list(zip(cuts[:-1], cuts[1:], strict=True))
    if len(ranges) == 1:
        pieces = [_xapi_scan.scan(data, begin, size)]
    else:
        with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
            pieces = list(pool.map(lambda r: _xapi_scan.scan(data, r[0], r[1]), ranges))
    status = np.concatenate([np.frombuffer(p["status"], dtype=np.uint8) for p in pieces])
    places = np.cumsum(status != BLANK) - 1
    facts = pa.Table.from_batches([_batch(p) for p in pieces], schema=_SCHEMA).append_column(
        "n", _int64s(places[status == FAST]))
    return Lines(data, size, np.concatenate([np.frombuffer(p["starts"], dtype=np.int64) for p in pieces]),
                 np.concatenate([np.frombuffer(p["ends"], dtype=np.int64) for p in pieces]), status, facts)


def _int64s(values: np.ndarray) -> pa.Array:
    """numpy's int64s as Arrow's, in place (pa.array would import pandas first: 0.3 s)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


_SCHEMA = pa.schema([(name, pa.uuid() if name == "id" else pa.large_string()) for name in _STRINGS]
                    + list(_FIXED.items()))


def _batch(piece: dict) -> pa.RecordBatch:
    rows = piece["rows"]
    columns = []
    for name in _STRINGS:
        valid, offsets, text = piece[name]
        strings = pa.Array.from_buffers(pa.large_string(), rows, [
            pa.py_buffer(valid), pa.py_buffer(offsets), pa.py_buffer(text)])
        columns.append(_as_uuids(strings) if name == "id" else strings)
    for name, kind in _FIXED.items():
        valid, values = piece[name]
        columns.append(pa.Array.from_buffers(kind, rows, [pa.py_buffer(valid), pa.py_buffer(values)]))
    return pa.RecordBatch.from_arrays(columns, schema=_SCHEMA)


# The columns of lrs.INCOMING_COLUMNS from bulk_lines_facts (a registered Lines.facts); FROM
# and any further columns to follow. Ids the file left out are given here: into a table, not
# a view (which would give new ones at every read).
FACTS_SQL = """
    SELECT n, coalesce(id, uuid()) AS id, ts, actor_key, learner_id, verb_id, 'Activity' AS object_type,
           object_id, activity_name, unit_code, score_scaled, success, completion, duration_s, registration,
           NULL::VARCHAR AS voids_id, NULL::VARCHAR AS version, actor_name, definition"""  # version NULL: 1.0.0


_UUID_HEX = [slice(0, 8), slice(9, 13), slice(14, 18), slice(19, 23), slice(24, 36)]  # all but the dashes


def _as_uuids(ids: pa.Array) -> pa.Array:
    """The reader's ids (36 characters in lower case each, or null) as Arrow UUIDs, which DuckDB
    reads as its own UUID type: no 200,000 strings parsed in SQL for the checks and the INSERT."""
    # The validity bits unpacked by numpy (pyarrow's to_numpy would import pandas: 0.23 s).
    valid = np.unpackbits(np.frombuffer(ids.buffers()[0], dtype=np.uint8), bitorder="little")[:len(ids)].view(bool)
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int64)[:len(ids) + 1]
    if not np.array_equal(np.diff(offsets), 36 * valid.astype(np.int64)):
        raise ValueError("the reader gave an id that is not a UUID's 36 characters")
    # Null ids take no characters: the text is the valid ids' 36 characters each, in order.
    found = int(np.count_nonzero(valid))
    text = np.frombuffer(ids.buffers()[2], dtype=np.uint8, count=36 * found, offset=int(offsets[0])) if found else \
        np.zeros(0, dtype=np.uint8)
    characters = text.reshape(found, 36)
    hex_digits = np.concatenate([characters[:, part] for part in _UUID_HEX], axis=1)
    digits = (hex_digits & 0x0F) + 9 * (hex_digits >> 6)  # '0'-'9' and 'a'-'f' (the reader checked them)
    uuids = np.zeros((len(ids), 16), dtype=np.uint8)
    uuids[valid] = (digits[:, 0::2] << 4) | digits[:, 1::2]
    storage = pa.Array.from_buffers(pa.binary(16), len(ids), [ids.buffers()[0], pa.py_buffer(uuids)])
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)

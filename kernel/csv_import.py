"""The all-or-nothing CSV import every module's importer follows: read the file's text
(UTF-8 with or without Excel's byte-order mark, or Shift_JIS as Excel in Japan saves it),
check the header, name every bad row by its line in the file (the header is line 1), then
either reject the whole file, naming every bad row, or write it in one store transaction.

Each module keeps its own columns, row rules and messages; this holds only the skeleton.
Rows come either as records (`read_rows`, row by row) or as a polars frame with a `line`
column (`read_frame`, checked column by column with `frame_problems`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from kernel.errors import ImportRejected, RowProblem
from kernel.store import Store

T = TypeVar("T")
_BOM = b"\xef\xbb\xbf"


def raw_bytes(data: bytes | str | Path) -> bytes:
    """The file's bytes (a path read, text encoded), without a UTF-8 byte-order mark."""
    raw = Path(data).read_bytes() if isinstance(data, Path) else data.encode() if isinstance(data, str) else data
    return raw[len(_BOM):] if raw.startswith(_BOM) else raw


def decode_text(data: bytes | str | Path, *, unreadable_key: str | None = None) -> str:
    """The file as text: UTF-8, else Shift_JIS (cp932). Neither: ImportRejected with
    `unreadable_key` on line 1, or (no key given) Shift_JIS with the unreadable replaced."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    raw = raw_bytes(data)
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    if unreadable_key:
        raise ImportRejected([RowProblem(1, unreadable_key)], rows=0)
    return raw.decode("cp932", errors="replace")


@dataclass(frozen=True)
class Table:
    """A CSV file's header and its non-blank records, each by the line it starts on (a quoted
    newline makes a record span lines), its cells stripped."""

    header: list[str]
    records: list[tuple[int, list[str]]]

    def values(self, cells: list[str]) -> dict[str, str] | None:
        """A record's cells by column; None when it has not as many cells as the header."""
        return dict(zip(self.header, cells, strict=True)) if len(cells) == len(self.header) else None

    def missing(self, columns: Iterable[str]) -> list[str]:
        return [c for c in columns if c not in self.header]


def read_rows(text: str, *, lower_header: bool = False) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() if lower_header else h.strip() for h in next(reader, [])]
    records: list[tuple[int, list[str]]] = []
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if any(c.strip() for c in cells):
            records.append((start, [c.strip() for c in cells]))
    return Table(header, records)


def read_frame(data: bytes | str | Path, *, unreadable_key: str, lower_names: bool = False,
               **options: Any) -> pl.DataFrame:
    """The file as text columns (names stripped, lower-cased if asked) and `line`, each row's
    line in the file; a file polars cannot read is rejected with `unreadable_key` on line 1."""
    try:
        frame = pl.read_csv(io.BytesIO(raw_bytes(data)), infer_schema=False, **options)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise ImportRejected([RowProblem(1, unreadable_key, {"detail": str(exc)[:200]})]) from exc
    if lower_names:
        frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    return frame.with_row_index("line", offset=2).with_columns(pl.col("line").cast(pl.Int64))


Check = tuple[pl.Expr, str, dict[str, pl.Expr]]  # rows where the condition holds, the key, its params


def frame_problems(frame: pl.DataFrame, checks: Iterable[Check]) -> list[RowProblem]:
    """Every row that a check finds, named by its `line` with the check's key and parameters
    (read from the row as text), in line order."""
    found = []
    for condition, key, params in checks:
        hits = frame.filter(condition.fill_null(False)).select(
            "line", *[expr.cast(pl.Utf8).alias(name) for name, expr in params.items()])
        found += [RowProblem(row["line"], key, {k: v for k, v in row.items() if k != "line"})
                  for row in hits.iter_rows(named=True)]
    return sorted(found, key=lambda p: p.row)


def reject(problems: list[RowProblem], **params: object) -> None:
    """Store nothing: raise ImportRejected naming every bad row, in line order, if there is one."""
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: p.row), **params)


def store_all(store: Store, problems: list[RowProblem], write: Callable[[Any], T], **params: object) -> T:
    """All or nothing: reject the file if any row is bad, else `write` every row in one transaction."""
    reject(problems, **params)
    return store.write(write)

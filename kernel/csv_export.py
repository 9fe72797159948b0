"""Every CSV that Manabi hands out is written here, so that none can carry a formula.

A spreadsheet program runs a cell that begins with `=`, `+`, `-` or `@` (and some
take a leading tab or carriage return the same way) as a formula: an archive title
`=HYPERLINK(...)` typed by one person would run in the spreadsheet of everyone who
downloads the export. OWASP's advice, followed here: such a text cell gets a leading
`'`, which spreadsheets read as "this is text" and do not show. Numbers stay numbers:
an int or float is written as it is, and so is a text that is a plain number ("-12.5").
Japanese spreadsheets also take the full-width signs (＝ ＋ － ＠) as formula starts.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
BOM = "\ufeff"


def safe_cell(value: object) -> object:
    """The value as it may go into a CSV cell: texts that a spreadsheet would run are
    neutralised; None becomes empty; anything else is left for the csv module."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = True,
              lineterminator: str = "\r\n") -> str:
    """CSV text of a header and rows, every cell through `safe_cell`. `bom` (default on)
    puts the UTF-8 byte-order mark first, so that Excel in Japan opens it without mojibake."""
    out = io.StringIO()
    if bom:
        out.write(BOM)
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return out.getvalue()


def write_csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = True,
                    lineterminator: str = "\r\n") -> bytes:
    """`write_csv` encoded as UTF-8, for a download button or an HTTP response."""
    return write_csv(header, rows, bom=bom, lineterminator=lineterminator).encode("utf-8")


def write_dict_csv(columns: Sequence[str], records: Iterable[dict], *, bom: bool = True,
                   lineterminator: str = "\r\n") -> str:
    """`write_csv` of dicts, one column per name in `columns` (missing keys are empty)."""
    return write_csv(columns, ([record.get(name) for name in columns] for record in records),
                     bom=bom, lineterminator=lineterminator)

"""Bulk CSV import of items: all or nothing, every bad row named by its line.

The header is line 1; a record spanning several lines (a quoted newline) is named by
its first line. Columns (UTF-8, or Shift_JIS as Excel saves it; order free):

  identifier*  title_ja*  title_en  type*  date  creator_ja  creator_en
  description_ja  description_en  subjects_ja  subjects_en   (subjects: separated by |)
  place_ja  place_en  latitude  longitude   (both coordinates or neither)
  rights*  image  status (draft | review | published; empty = draft)  set (an item set's slug)
  format  source  coverage

The sample is data/archive_import_sample.csv (the README describes its columns). Images are looked up by file name through
`read_image` (the CLI's --images folder, or the files uploaded beside the CSV).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archive.services import images, items, media, places_sets
from kernel import csv_import
from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.errors import ImportRejected, InvalidInput, RowProblem
from kernel.store import Store

COLUMNS = ("identifier", "title_ja", "title_en", "type", "date", "creator_ja", "creator_en", "description_ja",
           "description_en", "subjects_ja", "subjects_en", "place_ja", "place_en", "latitude", "longitude",
           "rights", "image", "status", "set", "format", "source", "coverage")
REQUIRED = ("identifier", "title_ja", "type", "rights")
IMPORT_STATUSES = ("draft", "review", "published")
MAX_ROWS = 20000


@dataclass(frozen=True)
class ImportResult:
    rows: int
    item_ids: list[int]


@dataclass
class _Row:
    line: int
    values: dict
    place: tuple[str, str | None, float, float] | None
    status: str
    set_slug: str | None
    image: list[images.Rendition] | None
    image_name: str | None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", "|").split("|") if part.strip()]


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def import_csv(store: Store, clock: Clock, actor: Actor, data: bytes, *,
               read_image: Callable[[str], bytes | None] | None = None,
               progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Check every row, then store them all in one transaction; or store nothing and
    raise ImportRejected naming every bad row (line, reason)."""
    actor.require(Role.CURATOR)
    header, records = _records(data)
    set_ids = {slug: sid for sid, slug in store.query("SELECT id, slug FROM archive_sets")}
    taken = {identifier for (identifier,) in store.query("SELECT identifier FROM archive_items")}
    first_line: dict[str, int] = {}
    problems: list[RowProblem] = []
    rows: list[_Row] = []
    total = len(records)
    for done, (line_no, cell) in enumerate(records, start=1):
        if progress and (done % 50 == 0 or done == total):
            progress(done, total)
        if "__width__" in cell:
            problems.append(RowProblem(line_no, "archive.import.bad_width",
                                       {"found": cell["__width__"], "expected": len(header)}))
            continue
        row, found = _checked_row(actor, line_no, cell, set_ids, taken, first_line, read_image)
        problems += [RowProblem(line_no, key, params) for key, params in found]
        rows.append(row)
    item_ids = csv_import.store_all(store, problems, lambda cur: _store_rows(cur, clock, actor, rows, set_ids),
                                    rows=total)
    return ImportResult(len(item_ids), item_ids)


def _records(data: bytes) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and the non-blank rows by their first line in the file (a row of the
    wrong width kept as {"__width__": n}); ImportRejected when the file itself is wrong."""
    table = csv_import.read_rows(csv_import.decode_text(data, unreadable_key="archive.import.not_text"),
                                 lower_header=True)
    header = table.header
    missing = table.missing(REQUIRED)
    unknown = [c for c in header if c and c not in COLUMNS]
    if missing or unknown:
        problems = [RowProblem(1, "archive.import.missing_columns", {"columns": ", ".join(missing)})] if missing else []
        if unknown:
            problems.append(RowProblem(1, "archive.import.unknown_columns", {"columns": ", ".join(unknown)}))
        raise ImportRejected(problems, rows=0)
    records: list[tuple[int, dict]] = []
    for start, cells in table.records:
        values = table.values(cells)
        records.append((start, values if values is not None else {"__width__": str(len(cells))}))
    if not records:
        raise ImportRejected([RowProblem(1, "archive.import.empty")], rows=0)
    if len(records) > MAX_ROWS:
        raise ImportRejected([RowProblem(1, "archive.import.too_many", {"max": MAX_ROWS})], rows=len(records))
    return header, records


def _checked_row(actor: Actor, line_no: int, cell: dict, set_ids: dict[str, int], taken: set[str],
                 first_line: dict[str, int], read_image: Callable[[str], bytes | None] | None
                 ) -> tuple[_Row, list[tuple[str, dict]]]:
    """One row as it would be stored, and what is wrong with it (key, params) if anything."""
    row_problems: list[tuple[str, dict]] = []

    def get(name: str) -> str:
        return cell.get(name, "") or ""

    values, found = items.check_input(items.ItemInput(
        identifier=get("identifier"), title_ja=get("title_ja"), title_en=get("title_en") or None,
        type=get("type"), rights=get("rights"), date_text=get("date") or None,
        creator_ja=get("creator_ja") or None, creator_en=get("creator_en") or None,
        description_ja=get("description_ja") or None, description_en=get("description_en") or None,
        subjects_ja=_split(get("subjects_ja")), subjects_en=_split(get("subjects_en")),
        format=get("format") or None, source=get("source") or None, coverage=get("coverage") or None,
    ))
    row_problems += found
    identifier = values["identifier"]
    if identifier in first_line:
        row_problems.append(("archive.import.duplicate", {"identifier": identifier, "line": first_line[identifier]}))
    elif identifier in taken:
        row_problems.append(("archive.error.identifier_taken", {"identifier": identifier}))
    first_line.setdefault(identifier, line_no)

    place = None
    lat, lon = get("latitude"), get("longitude")
    if lat or lon:
        lat_n, lon_n = _number(lat), _number(lon)
        if lat_n is None or lon_n is None or not (-90 <= lat_n <= 90 and -180 <= lon_n <= 180):
            row_problems.append(("archive.error.bad_coordinates", {"lat": lat or "—", "lon": lon or "—"}))
        else:
            place = (get("place_ja") or values["title_ja"] or identifier, get("place_en") or None, lat_n, lon_n)
    elif get("place_ja"):
        row_problems.append(("archive.import.place_needs_coordinates", {"place": get("place_ja")}))

    status = get("status").lower() or "draft"
    if status not in IMPORT_STATUSES:
        row_problems.append(("archive.error.bad_status", {"status": status, "statuses": ", ".join(IMPORT_STATUSES)}))
    elif status == "published" and not actor.has(Role.CITY_ADMIN):
        row_problems.append(("archive.import.cannot_publish", {}))

    set_slug = get("set") or None
    if set_slug and set_slug not in set_ids:
        row_problems.append(("archive.import.no_set", {"set": set_slug}))

    made = None
    image_name = get("image") or None
    if image_name:
        content = read_image(image_name) if read_image else None
        if content is None:
            row_problems.append(("archive.import.image_missing", {"name": image_name}))
        else:
            try:
                made = images.renditions(content, image_name)
            except InvalidInput as exc:
                row_problems.append((exc.key, exc.params))
    return _Row(line_no, values, place, status, set_slug, made, image_name), row_problems


def _store_rows(cur, clock: Clock, actor: Actor, rows: list[_Row], set_ids: dict[str, int]) -> list[int]:
    """Every checked row, in the caller's one transaction: places once each, items, images, sets."""
    place_ids: dict[str, int] = {}  # the same place named on many rows: look it up once
    for row in rows:
        if row.place:
            if row.place[0] not in place_ids:
                place_ids[row.place[0]] = places_sets.insert_place(cur, *row.place)
            row.values["place_id"] = place_ids[row.place[0]]
    ids = items.insert_items_bulk(cur, clock, actor, [(row.values, row.status) for row in rows])
    for item_id, row in zip(ids, rows, strict=True):
        if row.image:
            media.insert_image(cur, clock, actor, item_id, row.image, file_name=row.image_name,
                               rights_uri=row.values["rights"])
    memberships = [(set_ids[row.set_slug], item_id) for item_id, row in zip(ids, rows, strict=True)
                   if row.set_slug]
    for set_id, item_id in memberships:
        places_sets.put_in_set(cur, clock, actor, set_id, item_id)
    return ids

"""Import MDM exports into the registry: Google Admin's ChromeOS device export, or a
generic CSV with our own column names. Devices match by serial number.

All or nothing: one bad row and nothing is stored, and every bad row is named with its
line number as in the file (the header is line 1) and the reason. Validation works on
whole columns (polars), never row by row in Python, so 10,000 rows take milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from kernel import csv_import
from kernel.actor import Actor
from kernel.errors import ImportRejected, InvalidInput, RowProblem
from kernel.provided import offered_view
from kernel.store import Store
from school_ict.services.access import require_manage, sees_all
from school_ict.services.registry import KINDS

FORMATS = ("google-admin", "generic")

# Google Admin's column titles (and GAM's camelCase names) → registry fields, compared
# after lower-casing and dropping everything that is not a letter or digit.
GOOGLE_COLUMNS = {
    "serialnumber": "serial",
    "annotatedassetid": "asset_tag",
    "assetid": "asset_tag",
    "annotateduser": "annotated_user",
    "annotatedlocation": "school",
    "orgunitpath": "org_unit",
    "model": "model",
    "osversion": "os_version",
    "lastsync": "last_sync",
    "autoupdateexpiration": "support_end",
    "autoupdateexpirationdate": "support_end",
    "aue": "support_end",
}
GENERIC_COLUMNS = {
    "assettag": "asset_tag", "serial": "serial", "serialnumber": "serial", "kind": "kind", "model": "model",
    "osversion": "os_version", "school": "school", "purchasedate": "purchase_date",
    "warrantyend": "warranty_end", "supportend": "support_end", "aue": "support_end", "cart": "cart",
    "annotateduser": "annotated_user", "lastseen": "last_sync",
}
FIELDS = ("serial", "asset_tag", "kind", "model", "os_version", "school", "org_unit", "purchase_date",
          "warranty_end", "support_end", "cart", "annotated_user", "last_sync")
DATE_FIELDS = ("purchase_date", "warranty_end", "support_end")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d")
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S",
                     "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M")


@dataclass
class ImportResult:
    rows: int
    created: int = 0
    updated: int = 0
    dry_run: bool = False
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def read_table(data: bytes | str | Path, fmt: str) -> pl.DataFrame:
    """The file as text columns named by FIELDS, plus `line` (its line number in the file)."""
    if fmt not in FORMATS:
        raise InvalidInput("ict.error.bad_format", format=fmt, formats=", ".join(FORMATS))
    frame = csv_import.read_frame(data, unreadable_key="ict.import.unreadable", truncate_ragged_lines=True)
    mapping = GOOGLE_COLUMNS if fmt == "google-admin" else GENERIC_COLUMNS
    chosen: dict[str, str] = {}
    for column in frame.columns[1:]:  # after `line`
        target = mapping.get(_norm(column))
        if target and target not in chosen.values():
            chosen[column] = target
    frame = frame.select("line", *[pl.col(c).str.strip_chars().alias(f) for c, f in chosen.items()])
    for name in FIELDS:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(name))
    frame = frame.select("line", *FIELDS).with_columns(
        [pl.when(pl.col(f) == "").then(None).otherwise(pl.col(f)).alias(f) for f in FIELDS])
    if "serial" not in chosen.values():
        raise ImportRejected([RowProblem(1, "ict.import.no_serial_column")])
    if fmt == "google-admin":
        # Chromebooks are pupil tablets; the school is the annotated location, else the
        # last part of the organisational unit path (/Schools/E01 → E01).
        frame = frame.with_columns(
            pl.lit("pupil_tablet").alias("kind"),
            pl.coalesce("school", pl.col("org_unit").str.split("/").list.last()).alias("school"))
    return frame


def _parse_dates(frame: pl.DataFrame) -> pl.DataFrame:
    parsed = []
    for name in DATE_FIELDS:
        column = pl.col(name)
        candidates = [column.str.to_date(f, strict=False) for f in _DATE_FORMATS]
        # "2027-06" or "2027/06": the month's first day.
        candidates.append(pl.when(column.str.contains(r"^\d{4}[-/]\d{1,2}$")).then(
            (column.str.replace_all("/", "-") + "-01").str.to_date("%Y-%m-%d", strict=False)))
        parsed.append(pl.coalesce(candidates).alias(f"{name}_value"))
    sync = pl.col("last_sync").str.replace(r"(Z|\+00:00)$", "")
    utc = pl.col("last_sync").str.contains(r"(Z|\+00:00)$")
    naive = pl.coalesce([sync.str.to_datetime(f, strict=False, time_unit="us") for f in _DATETIME_FORMATS])
    parsed.append(
        pl.when(utc).then(naive.dt.replace_time_zone("UTC").dt.convert_time_zone("Asia/Tokyo"))
        .otherwise(naive.dt.replace_time_zone("Asia/Tokyo", ambiguous="earliest", non_existent="null"))
        .alias("last_sync_value"))
    return frame.with_columns(parsed)


def validate(store: Store, actor: Actor, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[RowProblem]]:
    """The frame with school ids, matched device ids and parsed values, and every problem."""
    offered_view(store.cursor(), "portal.schools")
    schools = pl.DataFrame(store.query("SELECT id, code, name_ja, name_en FROM offered_schools"),
                           schema={"id": pl.Int64, "code": pl.Utf8, "name_ja": pl.Utf8, "name_en": pl.Utf8},
                           orient="row")
    lookup = pl.concat([
        schools.select(pl.col("code").str.to_uppercase().alias("key"), pl.col("id").alias("school_id")),
        schools.select(pl.col("name_ja").str.to_uppercase().alias("key"), pl.col("id").alias("school_id")),
        schools.select(pl.col("name_en").str.to_uppercase().alias("key"), pl.col("id").alias("school_id")),
    ]).unique("key")
    devices = pl.DataFrame(store.query("SELECT id, serial, asset_tag, school_id FROM school_ict_devices"),
                           schema={"device_id": pl.Int64, "serial": pl.Utf8, "registered_tag": pl.Utf8,
                                   "registered_school": pl.Int64}, orient="row")
    frame = (_parse_dates(frame)
             .with_columns(pl.col("school").str.to_uppercase().alias("key"))
             .join(lookup, on="key", how="left").drop("key")
             .join(devices, on="serial", how="left")
             .join(devices.select(pl.col("registered_tag").alias("asset_tag"),
                                  pl.col("serial").alias("tag_owner")), on="asset_tag", how="left")
             .sort("line"))
    first_serial = frame.group_by("serial").agg(pl.col("line").min().alias("serial_first"))
    first_tag = frame.filter(pl.col("asset_tag").is_not_null()).group_by("asset_tag").agg(
        pl.col("line").min().alias("tag_first"))
    frame = frame.join(first_serial, on="serial", how="left").join(first_tag, on="asset_tag", how="left")
    new = pl.col("device_id").is_null()
    own_school = actor.school_id
    checks: list[tuple[pl.Expr, str, dict[str, pl.Expr]]] = [
        (pl.col("serial").is_null(), "ict.import.no_serial", {}),
        (pl.col("serial").is_not_null() & (pl.col("line") != pl.col("serial_first")), "ict.import.duplicate_serial",
         {"serial": pl.col("serial"), "first": pl.col("serial_first")}),
        (pl.col("asset_tag").is_not_null() & (pl.col("line") != pl.col("tag_first")), "ict.import.duplicate_tag",
         {"tag": pl.col("asset_tag"), "first": pl.col("tag_first")}),
        (pl.col("tag_owner").is_not_null() & (pl.col("tag_owner") != pl.col("serial")), "ict.import.tag_taken",
         {"tag": pl.col("asset_tag"), "serial": pl.col("tag_owner")}),
        (pl.col("school").is_not_null() & pl.col("school_id").is_null(), "ict.import.unknown_school",
         {"school": pl.col("school")}),
        (new & pl.col("serial").is_not_null() & pl.col("school").is_null(), "ict.import.no_school", {}),
        (new & pl.col("serial").is_not_null() & pl.col("asset_tag").is_null(), "ict.import.no_tag", {}),
        (new & pl.col("serial").is_not_null() & pl.col("model").is_null(), "ict.import.no_model", {}),
        (pl.col("kind").is_not_null() & ~pl.col("kind").is_in(list(KINDS)), "ict.import.bad_kind",
         {"kind": pl.col("kind")}),
        (~new & pl.col("school_id").is_not_null() & (pl.col("school_id") != pl.col("registered_school")),
         "ict.import.other_school_device", {"serial": pl.col("serial")}),
        (pl.col("last_sync").is_not_null() & pl.col("last_sync_value").is_null(), "ict.import.bad_date",
         {"value": pl.col("last_sync"), "column": pl.lit("last sync")}),
        *[(pl.col(name).is_not_null() & pl.col(f"{name}_value").is_null(), "ict.import.bad_date",
           {"value": pl.col(name), "column": pl.lit(name)}) for name in DATE_FIELDS],
    ]
    if not sees_all(actor):
        # A school's ICT admin imports their own school's devices only.
        checks.append((pl.coalesce("school_id", "registered_school") != own_school, "ict.import.not_your_school",
                       {"serial": pl.col("serial")}))
    return frame, csv_import.frame_problems(frame, checks)


def import_devices(store: Store, clock, actor: Actor, data: bytes | str | Path, fmt: str, *, dry_run: bool = False,
                   progress: Callable[[str, float], None] | None = None) -> ImportResult:
    """Validate the whole file, then (unless a dry run) store every row in one transaction."""
    require_manage(actor, actor.school_id if not sees_all(actor) else None)
    say = progress or (lambda step, fraction: None)
    say("read", 0.1)
    frame = read_table(data, fmt)
    say("validate", 0.4)
    frame, problems = validate(store, actor, frame)
    result = ImportResult(rows=frame.height, dry_run=dry_run, problems=problems)
    csv_import.reject(problems, rows=frame.height)
    result.created = frame.filter(pl.col("device_id").is_null()).height
    result.updated = frame.height - result.created
    if dry_run or not frame.height:
        say("done", 1.0)
        return result
    say("store", 0.7)
    now = clock.now()
    store.write(lambda cur: store_rows(cur, frame, actor, now, fmt))
    say("done", 1.0)
    return result


def store_rows(cur, frame: pl.DataFrame, actor: Actor, now, fmt: str) -> None:
    """Write a validated frame inside the caller's transaction: update matched serials,
    insert new devices (in stock), and one 'imported' event per row."""
    rows = frame.select(
        "line", "device_id", "serial", "asset_tag", pl.coalesce("kind", pl.lit("pupil_tablet")).alias("kind"),
        "model", "os_version", "school_id", pl.col("purchase_date_value").alias("purchase_date"),
        pl.col("warranty_end_value").alias("warranty_end"), pl.col("support_end_value").alias("support_end"),
        "cart", "annotated_user", pl.col("last_sync_value").alias("last_seen_at"))
    cur.register("_import_rows", rows)
    try:
        # Another import may have registered one of these serials since validation: refuse, not duplicate.
        raced = cur.execute("""SELECT r.line, r.serial FROM _import_rows r JOIN school_ict_devices d
                               ON d.serial = r.serial WHERE r.device_id IS NULL""").fetchall()
        if raced:
            raise ImportRejected([RowProblem(line, "ict.import.duplicate_serial", {"serial": s, "first": "—"})
                                  for line, s in raced], rows=rows.height)
        cur.execute("""UPDATE school_ict_devices d SET
                           asset_tag = coalesce(r.asset_tag, d.asset_tag), model = coalesce(r.model, d.model),
                           os_version = coalesce(r.os_version, d.os_version),
                           purchase_date = coalesce(r.purchase_date, d.purchase_date),
                           warranty_end = coalesce(r.warranty_end, d.warranty_end),
                           support_end = coalesce(r.support_end, d.support_end),
                           cart = coalesce(r.cart, d.cart),
                           annotated_user = coalesce(r.annotated_user, d.annotated_user),
                           last_seen_at = coalesce(r.last_seen_at, d.last_seen_at), updated_at = ?
                       FROM _import_rows r WHERE r.device_id = d.id""", [now])
        try:
            cur.execute("""INSERT INTO school_ict_devices (asset_tag, serial, kind, model, os_version, school_id,
                               purchase_date, warranty_end, support_end, status, cart, annotated_user, last_seen_at,
                               updated_at)
                           SELECT asset_tag, serial, kind, model, os_version, school_id, purchase_date, warranty_end,
                                  support_end, 'in_stock', cart, annotated_user, last_seen_at, ?
                           FROM _import_rows WHERE device_id IS NULL ORDER BY line""", [now])
        except duckdb.ConstraintException as exc:
            # A concurrent import committed one of these serials or tags: run again, and the
            # check above names the rows.
            raise duckdb.TransactionException(str(exc)) from exc
        cur.execute("""INSERT INTO school_ict_events (device_id, happened_at, actor_id, actor_login, kind,
                           from_status, to_status, detail)
                       SELECT d.id, ?, ?, ?, 'imported', NULL, NULL, ?
                       FROM _import_rows r JOIN school_ict_devices d ON d.serial = r.serial""",
                    [now, actor.user_id, actor.login or "system", fmt])
    finally:
        cur.unregister("_import_rows")

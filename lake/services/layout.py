"""Where things are in a lake folder: the partitions are the interface, so every engine
(DuckDB here, Spark, Trino or BigQuery on a cluster) reads the same paths.

    statements/municipality=40205/school=E01/month=2026-11/part-<first seq>-<last seq>-<n>.parquet
    schools/municipality=40205/part.parquet      (the schools' codes and names)
    units/municipality=40205/part.parquet        (curriculum units by 学習指導要領コード)
    indicators/municipality=40205/part.parquet   (the yearly review's indicators)
    _state/40205.json                            (what was committed: the last statement's seq)
    _staging/40205/                              (a run's files before they are moved in)
    _results/board.json                          (the board's figures, as last computed)

Folders starting with "_" are not partitions: Spark and Hive readers skip them. A reader
counts a municipality's statements only up to its committed seq (a run cut short may have
moved some files in; the next run takes them back).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from kernel.municipality import CODE as MUNICIPALITY_CODE

STATEMENTS = "statements"
DIMENSIONS = ("schools", "units", "indicators")
STATE = "_state"
STAGING = "_staging"
RESULTS = "_results"
# part-<first seq>-<last seq>-<n>.parquet: a file names the run that wrote it.
_PART = re.compile(r"part-(\d+)-(\d+)-\d+\.parquet")


@dataclass(frozen=True)
class PartFile:
    path: Path
    first_seq: int
    last_seq: int


def municipality_dir(lake: Path, municipality: str) -> Path:
    return lake / STATEMENTS / f"municipality={municipality}"


def state_path(lake: Path, municipality: str) -> Path:
    return lake / STATE / f"{municipality}.json"


def committed_seq(lake: Path, municipality: str) -> int:
    """The last statement seq a finished export committed (0: none yet)."""
    path = state_path(lake, municipality)
    if not path.is_file():
        return 0
    return int(json.loads(path.read_text(encoding="utf-8"))["last_seq"])


def part_files(lake: Path, municipality: str) -> list[PartFile]:
    found = []
    for path in sorted(municipality_dir(lake, municipality).glob("school=*/month=*/part-*.parquet")):
        match = _PART.fullmatch(path.name)
        if match:
            found.append(PartFile(path, int(match[1]), int(match[2])))
    return found


def municipalities(lake: Path) -> list[str]:
    """The municipalities with a committed export in the lake."""
    folder = lake / STATE
    return sorted(p.stem for p in folder.glob("*.json") if MUNICIPALITY_CODE.fullmatch(p.stem)) \
        if folder.is_dir() else []

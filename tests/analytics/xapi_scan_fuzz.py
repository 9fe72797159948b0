"""A mutation fuzzer for the compiled reader of statement lines (_xapi_scan.c), run by
test_xapi_scan_fuzz.py in a process of its own where the reader is built with AddressSanitizer
and UBSan: any out-of-bounds read, overflow or undefined behaviour ends that process.

It also checks the reader's one promise on every input: a line it calls "common shape" (fast)
is one the full validator accepts, and a line it calls "not UTF-8" does not decode.

    python -m tests.analytics.xapi_scan_fuzz READER.so SEED CASES
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys

from analytics.services.xapi_validate import InvalidStatement, parse_json, validate_statement
from tests.analytics.test_bulk import app_statement

BLANK, FAST, OTHER, NOT_UTF8 = 0, 1, 2, 3

# Bytes and pieces a JSON reader must be careful with.
TOKENS = [b'"', b"\\", b"{", b"}", b"[", b"]", b":", b",", b"\n", b"\r", b"\t", b" ", b"\\u", b"\\u00",
          b"\\ud800", b"e999", b"-0", b"1e-400", b"0.1e", b"null", b"true", b"\xff", b"\xc3", b"\xe3\x83",
          b"\xf0\x9f\x98", b"\xed\xa0\x80", b"\x00", b'"objectType":"Agent"', b'"id":', b"99999999999999999999",
          b"2026-02-30T00:00:00Z", b"PT", b"P1Y2M", b"mailto:", b"http://", b'{"a":' * 40]


def load_reader(path: str):
    spec = importlib.util.spec_from_file_location("_xapi_scan", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seeds() -> list[bytes]:
    found = [json.dumps(app_statement(n), ensure_ascii=n % 2 == 0).encode() for n in range(11)]
    found.append(json.dumps(app_statement(3), separators=(",", ":")).encode())
    return found


def mutate(rng: random.Random, line: bytes, pool: list[bytes]) -> bytes:
    data = bytearray(line)
    for _ in range(rng.choice((0, 1, 1, 2, 3, 8))):  # 0: a valid line beside changed ones
        spot = rng.randrange(len(data) + 1)
        change = rng.randrange(7)
        if change == 0 and data:  # a byte changed
            data[min(spot, len(data) - 1)] = rng.randrange(256)
        elif change == 1:  # a token put in
            data[spot:spot] = rng.choice(TOKENS)
        elif change == 2 and data:  # a piece cut out
            del data[spot:spot + rng.randrange(1, 40)]
        elif change == 3:  # cut short
            del data[spot:]
        elif change == 4:  # a piece of itself repeated
            piece = data[spot:spot + rng.randrange(1, 60)]
            data[spot:spot] = piece * rng.randrange(1, 4)
        elif change == 5:  # spliced with another statement
            other = rng.choice(pool)
            data = data[:spot] + other[rng.randrange(len(other)):]
        else:  # a digit changed where numbers are
            digits = [i for i, b in enumerate(data) if 48 <= b <= 57]
            if digits:
                data[rng.choice(digits)] = rng.choice(b"0123456789.-+eE")
    return bytes(data)


def accepted(line: bytes) -> bool:
    try:
        validate_statement(parse_json(line.decode("utf-8")))
    except (InvalidStatement, UnicodeDecodeError):
        return False
    return True


def check(reader, data: bytes, start: int, stop: int) -> int:
    """The reader's verdicts on data[start:stop] checked; how many lines it took as fast."""
    taken = 0
    piece = reader.scan(data, start, stop)
    starts = memoryview(piece["starts"]).cast("B").cast("q")
    ends = memoryview(piece["ends"]).cast("B").cast("q")
    for begin, end, status in zip(starts, ends, bytes(memoryview(piece["status"])), strict=True):
        assert start <= begin <= end <= stop, (begin, end, start, stop)
        line = data[begin:end]
        if status == FAST:
            taken += 1
            if not accepted(line):
                raise AssertionError(f"the reader took a line the validator refuses: {line!r}")
        if status == NOT_UTF8:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                continue
            raise AssertionError(f"the reader called a UTF-8 line not UTF-8: {line!r}")
    return taken


def run(path: str, seed: int, cases: int) -> tuple[int, int]:
    """(lines the reader took as fast, valid mutants kept to breed)."""
    reader = load_reader(path)
    rng = random.Random(seed)
    pool = seeds()
    taken = kept = 0
    for _ in range(cases):
        lines = [mutate(rng, rng.choice(pool), pool) for _ in range(rng.randrange(1, 6))]
        data = b"\n".join(lines) + rng.choice((b"", b"\n", b"\r\n"))
        start = rng.choice((0, 0, rng.randrange(len(data) + 1)))
        stop = rng.choice((len(data), len(data), rng.randrange(start, len(data) + 1)))
        taken += check(reader, data, start, stop)
        # Lines that survive as valid statements breed further ones.
        for line in lines:
            if len(pool) < 400 and accepted(line):
                pool.append(line)
                kept += 1
    return taken, kept


if __name__ == "__main__":
    taken, kept = run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
    print(f"fuzzed {sys.argv[3]} cases; {taken} lines taken as fast, each accepted by the validator; "
          f"{kept} valid mutants kept")

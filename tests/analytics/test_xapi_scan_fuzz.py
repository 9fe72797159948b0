"""The compiled reader (_xapi_scan.c) fuzzed under AddressSanitizer and UBSan on every run of the
suite (short: a few thousand mutated inputs), so that every change to it is checked.

The reader is compiled here with gcc's sanitizers into a scratch folder and loaded by a Python of
its own with the sanitizer runtime preloaded (tests/analytics/xapi_scan_fuzz.py drives it); leak
checks are off, as CPython keeps memory to the end by design."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "analytics" / "services" / "_xapi_scan.c"
SANITIZER_REPORTS = ("AddressSanitizer", "runtime error:", "LeakSanitizer", "UndefinedBehaviorSanitizer")


@pytest.fixture(scope="module")
def sanitized_reader(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("xapi-scan-asan")
    built = folder / f"_xapi_scan{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-g", "-std=c11", "-D_GNU_SOURCE",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer",
                    f"-I{sysconfig.get_paths()['include']}", str(SOURCE), "-o", str(built)],
                   check=True, capture_output=True, text=True)
    return built


def fuzz(reader: Path, seed: int, cases: int) -> subprocess.CompletedProcess:
    runtime = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True,
                             check=True).stdout.strip()
    env = os.environ | {"LD_PRELOAD": runtime, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0",
                        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tests.analytics.xapi_scan_fuzz", str(reader), str(seed),
                           str(cases)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("seed", [1, 2])
def test_reader_survives_mutated_input_under_sanitizers(sanitized_reader, seed):
    done = fuzz(sanitized_reader, seed, 4000)
    reports = [word for word in SANITIZER_REPORTS if word in done.stderr]
    assert done.returncode == 0 and not reports, done.stderr[-4000:]
    taken = int(done.stdout.split("; ")[1].split()[0])
    assert taken > 100, done.stdout  # the differential check really ran on the reader's fast lines


def test_the_sanitizers_are_really_on(sanitized_reader, tmp_path):
    """The harness must be able to fail: a reader built the same way with an out-of-bounds read
    planted is caught."""
    planted = tmp_path / "planted.c"
    planted.write_text(SOURCE.read_text().replace(
        "static int is_digit(unsigned char b) {",
        "static volatile int planted_sink;\n"
        "static int is_digit(unsigned char b) { { char *p = malloc(4); planted_sink = p[(b & 1) + 4]; free(p); }", 1))
    built = tmp_path / f"_xapi_scan{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O0", "-g", "-std=c11", "-D_GNU_SOURCE", "-fsanitize=address,undefined",
                    f"-I{sysconfig.get_paths()['include']}", str(planted), "-o", str(built)],
                   check=True, capture_output=True, text=True)
    done = fuzz(built, 1, 20)
    assert done.returncode != 0 and "AddressSanitizer" in done.stderr

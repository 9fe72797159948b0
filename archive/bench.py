"""Benchmarks of the archive (`manabi bench`), printed, never asserted in tests.

- Pillow: the three sizes of a 12-megapixel photograph (goal < 1,000 ms);
- CSV import rate, all-or-nothing check included (goal ≥ 200 rows/s);
- public search on 5,000 published items: Japanese and English queries with facets
  (goal median < 100 ms), and the first page of browsing with no query;
- an item page read and a IIIF manifest build (goal < 50 ms each);
- an OAI-PMH ListRecords page of 100 records (goal < 2 s).

Each runs on its own fresh in-memory database with only the archive's tables, so the
demo city that `manabi bench` built for everyone stays as it was.
"""

from __future__ import annotations

import io
import statistics
import time
from pathlib import Path

from PIL import Image

from archive.demo import picture
from archive.services import iiif, images, importer, oai, reading, search
from kernel.actor import ANONYMOUS, SYSTEM
from kernel.clock import Clock
from kernel.migrations import discover, migrate
from kernel.store import Store

CORPUS_ITEMS = 5_000
IMPORT_ROWS = 1_000
QUERIES = ("伊藤伝右衛門", "石包丁", "炭鉱 写真", "宿場", "昭和の町並み", "stone knife", "theatre", "coal")
WORDS = [("炭鉱", "coal mine"), ("石包丁", "stone knife"), ("宿場", "post town"), ("芝居小屋", "theatre"),
         ("町並み", "townscape"), ("伊藤伝右衛門", "Ito Den'emon"), ("ボタ山", "slag heap"), ("甕棺", "jar burial")]
ERAS = ("明治45年", "大正", "昭和初期", "昭和30年代", "江戸時代後期", "弥生時代", "1960年代", "平成")
TYPES = ("object", "document", "photograph", "building", "site")


def _fresh_store(clock: Clock) -> Store:
    store = Store(":memory:")
    here = Path(__file__).resolve().parent
    migrate(store, clock, {"archive": discover("archive", here / "migrations")})
    return store


def _csv(start: int, rows: int) -> bytes:
    lines = ["identifier,title_ja,title_en,type,date,description_ja,description_en,subjects_ja,latitude,longitude,"
             "place_ja,rights,status"]
    for n in range(start, start + rows):
        ja, en = WORDS[n % len(WORDS)]
        other_ja, other_en = WORDS[(n * 7 + 3) % len(WORDS)]
        lines.append(
            f"BENCH-{n:06d},{ja}の資料 第{n}号,{en} item {n},{TYPES[n % 5]},{ERAS[n % len(ERAS)]},"
            f"{ja}と{other_ja}に関する記録。飯塚市の歴史を伝える。,A record of {en} and {other_en}.,"
            f"{ja}|{other_ja},{33.60 + (n % 100) / 1000:.4f},{130.65 + (n % 77) / 1000:.4f},場所{n % 40},"
            "http://creativecommons.org/licenses/by/4.0/,published"
        )
    return ("\n".join(lines) + "\n").encode()


def _ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(store: Store, clock: Clock) -> list[dict]:
    results = []
    photo = io.BytesIO()
    Image.open(io.BytesIO(picture("street", 1, 4000, 3000))).save(photo, "JPEG", quality=90)
    results.append({"name": "Pillow sizes of a 4000×3000 photo", "figure": round(
        _ms(lambda: images.renditions(photo.getvalue(), "photo.jpg"), 3)), "unit": "ms", "goal": "< 1000"})

    bench = _fresh_store(clock)
    try:
        data = _csv(0, IMPORT_ROWS)
        start = time.perf_counter()
        importer.import_csv(bench, clock, SYSTEM, data)
        rate = IMPORT_ROWS / (time.perf_counter() - start)
        results.append({"name": f"CSV import of {IMPORT_ROWS} rows", "figure": round(rate),
                        "unit": "rows/s", "goal": "≥ 200"})
        for batch in range(IMPORT_ROWS, CORPUS_ITEMS, IMPORT_ROWS):
            importer.import_csv(bench, clock, SYSTEM, _csv(batch, IMPORT_ROWS))

        per_query = [_ms(lambda q=q: search.search(bench, ANONYMOUS, q), 3) for q in QUERIES]
        results.append({"name": f"public search, {CORPUS_ITEMS} items (median of {len(QUERIES)} queries)",
                        "figure": round(statistics.median(per_query), 1), "unit": "ms", "goal": "< 100"})
        results.append({"name": "slowest search query", "figure": round(max(per_query), 1), "unit": "ms",
                        "goal": "< 250"})
        results.append({"name": f"browse first page with facets, {CORPUS_ITEMS} items",
                        "figure": round(_ms(lambda: search.search(bench, ANONYMOUS, "", era="showa"), 5), 1),
                        "unit": "ms", "goal": "< 100"})
        item_id = bench.scalar("SELECT min(id) FROM archive_items")
        results.append({"name": "item page read", "figure": round(
            _ms(lambda: reading.get_item(bench, ANONYMOUS, item_id), 20), 1), "unit": "ms", "goal": "< 50"})
        results.append({"name": "IIIF manifest build", "figure": round(
            _ms(lambda: iiif.manifest(bench, "http://bench.test", item_id), 20), 1), "unit": "ms", "goal": "< 50"})
        results.append({"name": "OAI-PMH ListRecords, first page of 100", "figure": round(
            _ms(lambda: oai.respond(bench, "http://bench.test", {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
                                    clock.now()), 3)), "unit": "ms", "goal": "< 2000"})
    finally:
        bench.close()
    return results

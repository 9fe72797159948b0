"""Finding items: Japanese-aware search with facets (type, era, set), a QR code to share an
item, and the count of views of published items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from archive.services import eras, text
from archive.services.items import STAFF, Summary, visible
from archive.services.reading import summaries
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.store import Store


@dataclass(frozen=True)
class SearchResult:
    items: list[Summary]
    total: int
    facets: dict[str, dict[str, int]]  # 'type' | 'era' | 'set' → value → count


def search(store: Store, actor: Actor, query: str = "", *, types: list[str] | None = None,
           era: str | None = None, set_id: int | None = None, status: str | None = None,
           limit: int = 24, offset: int = 0) -> SearchResult:
    """Items matching `query` (Japanese-aware: the query is cut into words by MeCab, and
    every word must be one of the item's words; or the whole query appears in a title),
    filtered by type, era facet and set, with facet counts. The public sees published only."""
    words = list(dict.fromkeys(text.tokens(query or "", query=True)))
    needle = text.normal(query or "").strip()
    params: list[object] = []
    condition = "true"
    if needle:
        word_match = " AND ".join("contains(i.search_tokens, ?)" for _ in words) or "false"
        params += [f" {w} " for w in words]
        condition = f"(({word_match}) OR contains(lower(i.title_ja || ' ' || coalesce(i.title_en, '')), ?))"
        params.append(needle)
    rows = store.query(
        f"""SELECT i.id, i.type, i.year_from, i.year_to,
                   list(si.set_id) FILTER (WHERE si.set_id IS NOT NULL) AS sets,
                   contains(lower(i.title_ja || ' ' || coalesce(i.title_en, '')), ?) AS in_title
            FROM archive_items i LEFT JOIN archive_set_items si ON si.item_id = i.id
            WHERE {visible(actor)} AND (? IS NULL OR i.status = ?) AND {condition}
            GROUP BY ALL""",
        [needle or "\x00", status, status, *params],
    )

    # Each row once: (id, type, year_from, year_to, set ids, title match, era facets).
    rows = [(*r[:4], r[4] or [], r[5], eras.era_facet(r[2], r[3])) for r in rows]

    def keep(row, skip: str | None = None) -> bool:
        """Whether a row passes the chosen filters, leaving out `skip` (for that facet's counts)."""
        if skip != "type" and types and row[1] not in types:
            return False
        if skip != "era" and era and era not in row[6]:
            return False
        return skip == "set" or set_id is None or set_id in row[4]

    facets: dict[str, dict[str, int]] = {"type": {}, "era": {}, "set": {}}
    for row in rows:
        if keep(row, "type"):
            facets["type"][row[1]] = facets["type"].get(row[1], 0) + 1
        if keep(row, "era"):
            for key in row[6]:
                facets["era"][key] = facets["era"].get(key, 0) + 1
        if keep(row, "set"):
            for s in row[4]:
                facets["set"][str(s)] = facets["set"].get(str(s), 0) + 1
    hits = [r for r in rows if keep(r)]
    # Title matches first, then by date (undated last), then by id.
    hits.sort(key=lambda r: (not r[5], r[2] if r[2] is not None else 10**6, r[0]))
    page = [r[0] for r in hits[offset:offset + limit]]
    return SearchResult(summaries(store, actor, page), len(hits), facets)


def share_qr_png(url: str) -> bytes:
    """A QR code (PNG) of an item's address, for a teacher to show the class."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- views


def record_view(store: Store, clock: Clock, item_id: int) -> None:
    """Count one view of a published item today (no visitor data is kept)."""
    today = clock.now().date()

    def work(cur) -> None:
        if not cur.execute("SELECT 1 FROM archive_items WHERE id = ? AND status = 'published'", [item_id]).fetchone():
            return
        cur.execute(
            """INSERT INTO archive_views VALUES (?, ?, 1)
               ON CONFLICT (item_id, day) DO UPDATE SET views = archive_views.views + 1""",
            [item_id, today],
        )

    store.write(work)


@dataclass(frozen=True)
class ViewRow:
    item_id: int
    identifier: str
    title_ja: str
    title_en: str | None
    views: int

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_ja


def views_report(store: Store, actor: Actor, start: date, end: date) -> tuple[int, list[ViewRow], list[tuple[date, int]]]:
    """Views from `start` to `end` (inclusive): the total, per item (most viewed first), per month."""
    actor.require(*STAFF)
    per_item = [ViewRow(*r) for r in store.query(
        """SELECT i.id, i.identifier, i.title_ja, i.title_en, sum(v.views)::INTEGER
           FROM archive_views v JOIN archive_items i ON i.id = v.item_id
           WHERE v.day BETWEEN ? AND ? GROUP BY ALL ORDER BY 5 DESC, 1""", [start, end])]
    per_month = [(r[0], r[1]) for r in store.query(
        """SELECT date_trunc('month', day)::DATE, sum(views)::INTEGER FROM archive_views
           WHERE day BETWEEN ? AND ? GROUP BY 1 ORDER BY 1""", [start, end])]
    return sum(r.views for r in per_item), per_item, per_month


def counts_by_status(store: Store, actor: Actor) -> dict[str, int]:
    actor.require(*STAFF)
    return {s: n for s, n in store.query("SELECT status, count(*) FROM archive_items GROUP BY 1")}

"""A pupil's learning records after leaving school: removed when the kept period is over
(offered as "analytics.apply_retention"; the portal's retention rules call it every night).

Who left when is the school roster's: analytics asks the portal ("portal.pupils_left_longer_than")
inside its own transaction rather than keeping a copy of each leaving date, which the roster
alone changes (a pupil who comes back, a date corrected by hand); school ICT asks the same.

What goes, for each such learner id, in one transaction under the statements lock:
- their statements (learner_id: the account name), statements whose object is them as an
  Agent, and statements that refer to a removed one (voiding ones among them);
- the texts of those statements: rows of one statement (plain, or a block of one) deleted; in a zstd block of consecutive statements
  (analytics/services/texts.py) the removed lines become empty lines, so the block keeps its
  seq range; a block left with nothing is deleted. Blocks are updated in place, so the texts
  stay in seq order and the statements in the dashboards' order (a DELETE moves no other row:
  the clustering of analytics/services/clustering.py stays valid; the stored ids' hashes of
  stored_ids.py are read again by the next writer);
- attachment bytes that only removed statements named (by sha2);
- their state and agent profile documents, and the log of who viewed their records.
"""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import polars as pl
import zstandard

from analytics.services import lrs, stored_ids
from kernel import offers
from kernel.clock import Clock
from kernel.provided import provided
from kernel.store import Store

_LEVEL = 1  # as texts.py compresses its blocks
_BLOCKS_AT_ONCE = 2000  # zstd blocks read per query (about 20 KB each)


def apply_retention(store: Store, clock: Clock, kept: timedelta) -> int:
    """Remove the learning records of pupils who left school more than `kept` ago;
    returns how many statements went (0 when the portal offers no roster)."""
    left_longer_than = provided(offers.PORTAL_PUPILS_LEFT_LONGER_THAN)
    if left_longer_than is None:
        return 0
    today = clock.now().date()

    def work(cur) -> int:
        learners = left_longer_than(cur, kept, today)
        return remove_learners(cur, learners) if learners else 0

    return lrs.write_statements(store, work)


def remove_learners(cur, learners: list[str]) -> int:
    """Everything analytics keeps of these learner ids, inside the caller's transaction (which
    holds the statements lock); returns how many statements went."""
    cur.execute("CREATE OR REPLACE TEMP TABLE _leavers AS SELECT DISTINCT unnest(?::VARCHAR[]) AS learner_id",
                [learners])
    cur.execute("""CREATE OR REPLACE TEMP TABLE _leaver_keys AS
                   SELECT DISTINCT actor_key FROM analytics_statements
                   WHERE learner_id IN (SELECT learner_id FROM _leavers)""")
    cur.execute("""CREATE OR REPLACE TEMP TABLE _gone AS
                   SELECT id, seq FROM analytics_statements
                   WHERE learner_id IN (SELECT learner_id FROM _leavers)
                      OR (object_type IN ('Agent', 'Group') AND object_id IN (SELECT actor_key FROM _leaver_keys))""")
    # Statements that refer to a removed one (a voiding one, a comment on it), and so on down.
    while cur.execute("""INSERT INTO _gone SELECT id, seq FROM analytics_statements
                         WHERE object_type = 'StatementRef' AND TRY_CAST(object_id AS UUID) IN (SELECT id FROM _gone)
                           AND seq NOT IN (SELECT seq FROM _gone)""").fetchone()[0]:
        pass
    removed = cur.execute("SELECT count(*) FROM _gone").fetchone()[0]
    if removed and (kept := stored_ids.in_use()) is not None:
        kept.forget()  # voiding statements among the removed ones may be named in its hashes
    named = _remove_texts(cur)
    cur.execute("DELETE FROM analytics_statements WHERE seq IN (SELECT seq FROM _gone)")
    _remove_attachments(cur, named)
    # Documents of the learner as agent: by the keys their statements used, or by account name
    # (an app may keep a state for a learner who sent no statement). A homePage has no '|'.
    cur.execute("""DELETE FROM analytics_xapi_documents WHERE kind IN ('state', 'agent_profile') AND (
                       agent_key IN (SELECT actor_key FROM _leaver_keys)
                       OR (starts_with(agent_key, 'account:')
                           AND substr(agent_key, strpos(agent_key, '|') + 1) IN (SELECT learner_id FROM _leavers)))""")
    cur.execute("DELETE FROM analytics_access_log WHERE learner_id IN (SELECT learner_id FROM _leavers)")
    cur.execute("DELETE FROM analytics_learners WHERE learner_id IN (SELECT learner_id FROM _leavers)")
    for table in ("_gone", "_leaver_keys", "_leavers"):
        cur.execute(f"DROP TABLE {table}")
    return int(removed)


def _attachments_named(text: str) -> set[str]:
    if '"sha2"' not in text:
        return set()
    statement = json.loads(text)
    return {a["sha2"].lower() for a in statement.get("attachments", []) if isinstance(a.get("sha2"), str)}


def _remove_texts(cur) -> set[str]:
    """The texts of the statements in _gone; returns the attachment sha2s they named."""
    named: set[str] = set()
    unpack, repack = zstandard.ZstdDecompressor(), zstandard.ZstdCompressor(level=_LEVEL)
    # Rows of one statement (plain, or a block of one line): deleted whole.
    for plain, packed in cur.execute("""SELECT plain, zstd FROM analytics_statement_texts WHERE first_seq = last_seq
                                        AND first_seq IN (SELECT seq FROM _gone)
                                        AND (plain IS NULL OR contains(plain, '"sha2"'))""").fetchall():
        named |= _attachments_named(plain if plain is not None else unpack.decompress(packed).decode())
    cur.execute("DELETE FROM analytics_statement_texts WHERE first_seq = last_seq AND first_seq IN (SELECT seq FROM _gone)")
    # Blocks of many lines holding a removed statement, found in numpy (a block per seq by binary
    # search: an ASOF join over every row took 18 s at 3 million rows, a range join 5, this
    # 0.1), then the blocks themselves, a batch at a time (each about 20 KB).
    found = cur.execute("SELECT first_seq, last_seq FROM analytics_statement_texts WHERE last_seq > first_seq "
                        "ORDER BY first_seq").fetchnumpy()
    firsts, lasts = np.asarray(found["first_seq"], dtype=np.int64), np.asarray(found["last_seq"], dtype=np.int64)
    gone = np.sort(np.asarray(cur.execute("SELECT seq FROM _gone").fetchnumpy()["seq"], dtype=np.int64))
    holder = np.searchsorted(firsts, gone, side="right") - 1
    inside = (holder >= 0) & (gone <= lasts[np.maximum(holder, 0)]) if len(firsts) else np.zeros(len(gone), bool)
    gone, holder = gone[inside], holder[inside]
    starts = np.flatnonzero(np.diff(holder, prepend=-1))  # holder is sorted with gone
    holders = [(int(firsts[holder[a]]), gone[a:b].tolist())
               for a, b in zip(starts, [*starts[1:], len(gone)], strict=True)] if len(gone) else []
    emptied, rewritten = [], []
    for start in range(0, len(holders), _BLOCKS_AT_ONCE):
        batch = dict(holders[start:start + _BLOCKS_AT_ONCE])
        for first, packed in cur.execute("SELECT first_seq, zstd FROM analytics_statement_texts WHERE last_seq > first_seq "
                                         "AND first_seq IN (SELECT unnest(?::BIGINT[]))", [list(batch)]).fetchall():
            lines = unpack.decompress(packed).decode().split("\n")[:-1]
            for seq in batch[first]:
                named |= _attachments_named(lines[seq - first])
                lines[seq - first] = ""
            if any(lines):
                rewritten.append((first, repack.compress(("\n".join(lines) + "\n").encode())))
            else:
                emptied.append(first)
    if emptied:
        cur.execute("DELETE FROM analytics_statement_texts WHERE last_seq > first_seq "
                    "AND first_seq IN (SELECT unnest(?::BIGINT[]))", [emptied])
    if rewritten:
        cur.register("_rewritten_blocks", pl.DataFrame(rewritten, orient="row", schema={
            "first_seq": pl.Int64, "zstd": pl.Binary}))
        try:
            cur.execute("""UPDATE analytics_statement_texts t SET zstd = r.zstd FROM _rewritten_blocks r
                           WHERE t.first_seq = r.first_seq AND t.last_seq > t.first_seq""")
        finally:
            cur.unregister("_rewritten_blocks")
    return named


def _remove_attachments(cur, named: set[str]) -> None:
    """Delete the bytes of attachments `named` by removed statements that no statement kept
    names. Rare (attachments come with an app's multipart POST), so the remaining texts are
    searched only then: the plain ones in SQL, the blocks decompressed a batch at a time."""
    orphans = {sha2 for (sha2,) in cur.execute(
        "SELECT sha2 FROM analytics_xapi_attachments WHERE sha2 IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(named)]).fetchall()} if named else set()
    if not orphans:
        return
    for (sha2,) in cur.execute("""SELECT DISTINCT a.sha2 FROM (SELECT unnest(?::VARCHAR[]) AS sha2) a
                                  JOIN analytics_statement_texts t ON t.plain IS NOT NULL AND contains(t.plain, a.sha2)""",
                               [sorted(orphans)]).fetchall():
        orphans.discard(sha2)
    unpack = zstandard.ZstdDecompressor()
    after = -1
    while orphans:
        rows = cur.execute("SELECT first_seq, zstd FROM analytics_statement_texts WHERE last_seq > first_seq "
                           "AND first_seq > ? ORDER BY first_seq LIMIT ?", [after, _BLOCKS_AT_ONCE]).fetchall()
        if not rows:
            break
        for _, packed in rows:
            data = unpack.decompress(packed)
            orphans -= {sha2 for sha2 in orphans if sha2.encode() in data}
        after = rows[-1][0]
    if orphans:
        cur.execute("DELETE FROM analytics_xapi_attachments WHERE sha2 IN (SELECT unnest(?::VARCHAR[]))",
                    [sorted(orphans)])

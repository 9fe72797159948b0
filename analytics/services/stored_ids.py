"""Which of a batch's ids may be stored already, without scanning the stored ids.

Every write of statements checks its ids against the stored ones (no index keeps them unique:
see migration analytics 004). At 20 million statements that check scanned the id column, 50 to
200 ms for a POST of one statement, under the lock every writer of statements takes: a store
that size took about ten POSTs a second. So each store keeps, in memory, the 64-bit hashes of
every stored id (DuckDB's hash() of the UUID; 8 bytes a statement), sorted: a batch whose ids
hash to none of them (nearly every POST, every file of new statements) is new; only the ids
that do are looked up in the table. (A file of statements, checked in one scan, does not wait
for the hashes to be read: the import's process has them only if it read them before.)

The hashes may only err towards "maybe stored" (a hash shared by two ids, a statement deleted,
a batch rolled back after its hashes were added): those ids are then looked up. So that none
is missing, the hashes are taken to describe the table only while no statement or text has a
seq past the last one they were read or added at. Every writer numbers its statements after
every stored seq (lrs.next_seq), so a statement written any other way (demo data, a migration,
SQL by hand) lies past it and the hashes are read again (1.3 s at 20 million); a writer that
deletes statements says so (forget), since the voiding ones kept here may be among them.
Checking "nothing past seq n" is a query DuckDB answers from the last row group's statistics;
the table's row count and last seq, asked before, cost a live batch three times as much.
Used only by writers holding the statements lock (lrs.write_statements).

The live writer may leave a batch committing while it prepares the next in a transaction of its
own (analytics/services/live_writes.py): such batches are "in flight" here. Their ids are known
(an id sent again while its first is in flight waits for it), and any other writer waits until
none is in flight (wait_landed), so that what it reads of the table is all there is.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from kernel.store import Store

# The hashes are kept in sorted runs: the table's as read, then one per batch added (a POST's
# few first gather in a set). Past RUNS runs, the added ones are merged into one, and into the
# first when a quarter of its size.
RUNS = 8
FEW = 1000


class Stale(Exception):
    """The hashes do not describe the table, and a batch in flight keeps them from being read."""


class StoredIds:
    """The hashes of a store's statement ids (see the module's note)."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []  # sorted, the first the largest
        self.few: set[int] = set()
        # The last seq (of statements and texts) they account for; None: to be read.
        self.describes: int | None = None
        # Added to by a write not yet committed (see add): if it rolls back, they are read again,
        # since the voiding statements it named (named_by_voiding) were not stored after all.
        self.uncommitted = False
        self.batch_hashes: np.ndarray | None = None  # of the batch maybe_stored last looked at
        # The ids named by stored voiding statements (few), kept with the hashes: a statement that
        # arrives after its voiding one is stored voided, and a small batch need not scan voids_id.
        self.named_by_voiding: set[str] = set()
        # The live writer's batches committing while it prepares others (see the module's note).
        self.in_flight_ids: set[str] = set()
        self._in_flight = 0
        self._landing = threading.Condition()  # (an RLock: forget is called within landed)

    def flying(self, ids: list[str]) -> None:
        """A batch of these ids is prepared and goes to its COMMIT while others are prepared."""
        with self._landing:
            self._in_flight += 1
            self.in_flight_ids.update(ids)

    def landed(self, ids: list[str], committed: bool) -> None:
        """A batch in flight has committed, or not: then the hashes and last seq it added say
        more than the table holds, and are read again before the next write."""
        with self._landing:
            self._in_flight -= 1
            self.in_flight_ids.difference_update(ids)
            if not committed:
                self.forget()
            self._landing.notify_all()

    def wait_landed(self) -> None:
        """Until no batch is in flight (every one committed or rolled back)."""
        with self._landing:
            self._landing.wait_for(lambda: self._in_flight == 0)

    def maybe_stored(self, cur, incoming: str, read_if_stale: bool = True) -> list[str] | None:
        """The ids of table `incoming` (id VARCHAR, n) that may be stored already; None when
        the hashes do not describe the table and are not to be read for this batch (a file's:
        reading them costs more than the one scan it would spare)."""
        if not self.up_to_date(cur):
            if not read_if_stale:
                self.describes = None  # nor added to (see add)
                return None
            self._read(cur)
        found = cur.execute(f"SELECT hash(id::UUID) AS h, n FROM {incoming}").fetchnumpy()
        batch, places = np.asarray(found["h"], dtype=np.uint64), np.asarray(found["n"])
        self.batch_hashes = batch
        maybe = self._maybe(batch)
        if not maybe.any():
            return []
        return [r[0] for r in cur.execute(f"SELECT DISTINCT id FROM {incoming} WHERE n IN (SELECT unnest(?))",
                                          [places[maybe].tolist()]).fetchall()]

    def up_to_date(self, cur) -> bool:
        """Whether the hashes describe the table (see the module's note)."""
        return self.describes is not None and not self.uncommitted and \
            not cur.execute(f"SELECT {self.written_past()}").fetchone()[0]

    def written_past(self) -> str:
        """SQL of how many statements and texts lie past the seq the hashes account for (0:
        they describe the table), for the caller to ask with its other facts."""
        return "1" if self.describes is None or self.uncommitted else (
            f"(SELECT count(*) FROM analytics_statements WHERE seq > {int(self.describes)}) + "
            f"(SELECT count(*) FROM analytics_statement_texts WHERE last_seq > {int(self.describes)})")

    def maybe_among(self, cur, written_past: int, hashes: np.ndarray) -> np.ndarray:
        """For a batch whose ids' hashes (DuckDB's hash() of each UUID) and written_past() the
        caller read in its transaction: which of them may be stored already. (The live writer
        reads them with its other facts in one query: lrs.insert_live.) Afterwards describes
        is the last seq stored."""
        if written_past or self.describes is None or self.uncommitted:
            self._read(cur)
        self.batch_hashes = hashes
        return self._maybe(hashes)

    def _maybe(self, batch: np.ndarray) -> np.ndarray:
        maybe = np.zeros(len(batch), dtype=bool)
        for run in self.runs:
            at = np.minimum(np.searchsorted(run, batch), len(run) - 1)
            maybe |= run[at] == batch
        if self.few:
            maybe |= (np.fromiter((int(h) in self.few for h in batch), dtype=bool, count=len(batch))
                      if len(batch) <= FEW else np.isin(batch, np.fromiter(self.few, dtype=np.uint64)))
        return maybe

    def add(self, cur, fresh: str, whole_batch: bool, last_seq: int, voids: list | None = None,
            in_flight: bool = False) -> None:
        """The ids of table `fresh`, just inserted, the last with last_seq (when the hashes
        described the table before). in_flight: the batch will be committed while others are
        prepared (flying, landed), else by the caller (committed). whole_batch: fresh is the batch
        maybe_stored looked at, whose hashes it has. voids: the ids its voiding statements name
        (all of them, or more)."""
        if self.describes is None:
            return
        self.named_by_voiding.update(str(uuid.UUID(str(v))) for v in voids or ())
        if whole_batch and self.batch_hashes is not None:
            hashes = self.batch_hashes
        else:
            hashes = np.asarray(cur.execute(f"SELECT hash(id::UUID) AS h FROM {fresh}").fetchnumpy()["h"],
                                dtype=np.uint64)
        self.batch_hashes = None
        if len(hashes) < FEW:
            self.few.update(hashes.tolist())
            if len(self.few) >= FEW * 100:
                hashes, self.few = np.fromiter(self.few, dtype=np.uint64), set()
        if len(hashes) >= FEW:
            self.runs.append(np.sort(hashes))
        if len(self.runs) > RUNS:
            added = np.sort(np.concatenate(self.runs[1:]))
            self.runs = ([np.sort(np.concatenate([self.runs[0], added]))] if len(added) * 4 > len(self.runs[0])
                         else [self.runs[0], added])
        # The seqs of a batch follow every stored one (lrs.next_seq); after a rolled-back batch
        # they may follow seqs no longer stored, which is no matter. (Under the landing lock: a
        # batch in flight that fails makes them be read again meanwhile, see landed.)
        with self._landing:
            if self.describes is not None:
                self.describes = max(self.describes, last_seq)
        self.uncommitted = self.uncommitted or not in_flight

    def committed(self) -> None:
        """The write that added to them has committed (called after Store.write returns)."""
        self.uncommitted = False

    def forget(self) -> None:
        """Statements were deleted, or a write rolled back: read the hashes again before the next
        write."""
        with self._landing:
            self.describes = None

    def _read(self, cur) -> None:
        hashes = np.asarray(cur.execute("SELECT hash(id) AS h FROM analytics_statements").fetchnumpy()["h"],
                            dtype=np.uint64)
        self.runs, self.few = ([np.sort(hashes)] if len(hashes) else []), set()
        self.named_by_voiding = {v for (v,) in cur.execute(
            "SELECT DISTINCT voids_id::VARCHAR FROM analytics_statements WHERE voids_id IS NOT NULL").fetchall()}
        # As lrs.next_seq: top-1 queries, pruned by statistics.
        self.describes = int(cur.execute(
            "SELECT coalesce(greatest((SELECT seq FROM analytics_statements ORDER BY seq DESC LIMIT 1), "
            "(SELECT last_seq FROM analytics_statement_texts ORDER BY last_seq DESC LIMIT 1)), 0)").fetchone()[0])
        self.uncommitted = False


# DuckDB's hash() of a UUID, worked out here for a live batch's few ids (asking DuckDB was a
# fifth of the batch's one query): DuckDB keeps a UUID as a 128-bit integer whose top bit is
# flipped (so that it sorts as the text does) and hashes it as the two 64-bit halves' MurmurHash
# finalisers XORed. tests/analytics/test_stored_ids.py holds it to DuckDB's own over many ids.
_MURMUR = np.uint64(0xD6E8FEB86659FD93)
_TOP_BIT = np.uint64(1 << 63)


def hashes_of(ids: list[str]) -> np.ndarray:
    """DuckDB's hash() of each id as a UUID (ValueError for one that is not a UUID's text)."""
    halves = np.frombuffer(b"".join(uuid.UUID(i).bytes for i in ids), dtype=">u8").astype(np.uint64)
    return _murmur(halves[1::2]) ^ _murmur(halves[0::2] ^ _TOP_BIT)


def _murmur(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(32))
    x = x * _MURMUR
    x = x ^ (x >> np.uint64(32))
    x = x * _MURMUR
    return x ^ (x >> np.uint64(32))


_of_store: weakref.WeakKeyDictionary[Store, StoredIds] = weakref.WeakKeyDictionary()
_of_store_lock = threading.Lock()
_in_use = threading.local()


def kept_of(store: Store) -> StoredIds:
    """The store's hashes (their batches in flight are for anyone; the rest for writers holding
    the statements lock, see kept_for)."""
    with _of_store_lock:
        return _of_store.setdefault(store, StoredIds())


@contextmanager
def kept_for(store: Store) -> Iterator[StoredIds]:
    """The store's hashes, for the writer in this block (which holds the statements lock)."""
    kept = kept_of(store)
    _in_use.kept = kept
    try:
        yield kept
    finally:
        _in_use.kept = None


def in_use() -> StoredIds | None:
    """The hashes of the store this thread writes statements to (None outside kept_for)."""
    return getattr(_in_use, "kept", None)

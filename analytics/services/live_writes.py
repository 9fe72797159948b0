"""Group commit for the live xAPI path: learning apps' single-statement POSTs and PUTs share
one transaction.

Most learning apps send one statement per request. Alone, each request paid a whole
transaction (the stored-id check, the INSERTs, the COMMIT's WAL write) under the lock every
writer of statements takes, so concurrent requests queued behind one another. Here the
request's handler hands its statement to the store's one writer thread; the writer takes what
has arrived, checks it (a one-line body of an app's usual shape by the compiled reader of bulk
files, any other by the full validator), stores it in one transaction and only after the COMMIT
answers each request (an acknowledged statement is durable; a crash before the COMMIT leaves
none of the batch). While a batch commits, the next one gathers.

Every rule of a single request is kept per request: validation happens before the batch (its
own 400), and when the batch as a whole is refused (an id stored with other content, the same
id twice with different content, a voiding of a voiding statement) it is rolled back and its
statements are stored one by one, each in its own transaction, so that only the request at
fault gets its 409 or 400.

Also here: the writes under way, for X-Experience-API-Consistent-Through.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import weakref
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.services import attachments, lrs, statement_lines, stored_ids
from analytics.services.xapi_validate import parse_statements
from kernel.clock import Clock
from kernel.errors import InvalidInput
from kernel.store import Store

# At most this many requests share a transaction (a larger queue waits for the next batch).
MAX_BATCH = 2000


# --- writes under way ------------------------------------------------------------------------

# Writes under way in this process, by when they began: a statement's `stored` is never
# earlier than its write's start, so every statement stored before the oldest is readable.
_under_way: dict[int, datetime] = {}
_under_way_lock = threading.Lock()


@contextmanager
def under_way(clock: Clock) -> Iterator[datetime]:
    """Mark a write of statements as under way for the block; yields its start (its `stored`)."""
    token, began = object(), clock.now()
    with _under_way_lock:
        _under_way[id(token)] = began
    try:
        yield began
    finally:
        with _under_way_lock:
            del _under_way[id(token)]


def consistent_through(clock: Clock) -> str:
    """X-Experience-API-Consistent-Through: now, or just before the oldest write still under way.
    (The latest `stored` would make clients wait on a store that is idle, not behind.)"""
    with _under_way_lock:
        oldest = min(_under_way.values(), default=None)
    return lrs.xapi_time(clock.now() if oldest is None else oldest - timedelta(milliseconds=1))


# --- the writer ------------------------------------------------------------------------------


@dataclass
class _Pending:
    client_id: int
    # Its id once committed, or the exception that refused it: a thread's Future, or an asyncio
    # one of the request's event loop (settled there, a batch's at a time: _Answers).
    answer: Future | asyncio.Future
    row: tuple | None = None  # lrs.statement_row of the validated statement
    body: bytes | None = None  # or the statement's JSON as sent, to be checked with its batch
    settled: bool = False


class _Answers:
    """A batch's answers, handed over once the batch is done. The requests on an event loop get
    theirs in one call on that loop: a wake-up of the loop per request (and a thread Future chained
    to an asyncio one) cost the loop, which also reads and answers every request, about a tenth
    of a request's time."""

    def __init__(self) -> None:
        self._on_loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, object, bool]]] = {}

    def give(self, pending: _Pending, value: object, failed: bool = False) -> None:
        if pending.settled:
            return
        pending.settled = True
        answer = pending.answer
        if isinstance(answer, asyncio.Future):
            self._on_loops.setdefault(answer.get_loop(), []).append((answer, value, failed))
        elif failed:
            answer.set_exception(value)
        else:
            answer.set_result(value)

    def hand_over(self) -> None:
        for loop, answers in self._on_loops.items():
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for these
                loop.call_soon_threadsafe(_settle, answers)
        self._on_loops = {}


def _settle(answers: list[tuple[asyncio.Future, object, bool]]) -> None:
    for answer, value, failed in answers:
        if answer.done():  # the request was cancelled (its client went away)
            continue
        if failed:
            answer.set_exception(value)
        else:
            answer.set_result(value)


# Batches open at once: one committing while the next is prepared.
PIPELINE = 2


@dataclass
class _InFlight:
    """A batch prepared in its own transaction on `cursor`, for the committer."""
    cursor: object
    batch: list[_Pending]
    ids: list[str]
    done_under_way: contextlib.ExitStack


@dataclass
class _Again:
    """A batch whose COMMIT failed, back to the writer to be written again, as a single write."""
    batch: list[_Pending]


class GroupWriter:
    """The threads that write a store's live single statements, a batch per transaction.

    The writer thread takes what has arrived, checks it and, under the statements lock, inserts
    it in a transaction of its own (_prepare); the committer thread COMMITs it and answers its
    requests, while the writer prepares the next batch in another transaction. (The COMMIT, its
    answers and the wait for the GIL after each were a fifth of a batch's time.) The batches
    commit in the order they were prepared, which is their seqs' order, as readers that follow
    seqs expect. A batch that needs the table as it is (stale hashes, a voiding statement, an id
    of a batch still in flight) waits until nothing is in flight and is written as one write
    (_write), as is a batch refused whole or whose COMMIT failed, then one by one."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._waiting: queue.SimpleQueue[_Pending | _Again] = queue.SimpleQueue()
        self._cursors: queue.SimpleQueue = queue.SimpleQueue()  # not in a transaction
        for _ in range(PIPELINE):
            self._cursors.put(store.open_cursor())
        self._committing: queue.SimpleQueue[_InFlight] = queue.SimpleQueue()
        self.batches = 0  # counted for tests and the benchmark: how many transactions
        self.statements = 0
        self._thread = threading.Thread(target=self._run, name="xapi-group-commit", daemon=True)
        self._thread.start()
        threading.Thread(target=self._commit, name="xapi-group-commit-commits", daemon=True).start()

    def submit(self, client: lrs.Client, statement: dict, statement_id: str | None = None) -> Future:
        """Validate one statement now (InvalidInput raised to the caller) and queue it; the
        future gives its id after the COMMIT of its batch, or the error that refused it."""
        checked = lrs.checked_statements([statement], statement_id)
        attachments.check_parts(checked, [])  # attachments sent as parts take the multipart path
        answer: Future = Future()
        self._waiting.put(_Pending(client.id, answer, row=lrs.statement_row(checked[0])))
        return answer

    def submit_body(self, client: lrs.Client, body: bytes) -> Future:
        """One statement's JSON as sent: an object on one line (see one_line_object). It is
        checked in this writer with its batch's others (_check_bodies); the future gives its id
        after the COMMIT, or the error that refused it (InvalidInput: the request's 400)."""
        answer: Future = Future()
        self._waiting.put(_Pending(client.id, answer, body=body))
        return answer

    async def stored_body(self, client: lrs.Client, body: bytes) -> str:
        """submit_body for a request on an event loop: its id once its batch has committed
        (the error that refused it is raised)."""
        answer = asyncio.get_running_loop().create_future()
        self._waiting.put(_Pending(client.id, answer, body=body))
        return await answer

    def _run(self) -> None:
        while True:
            first = self._waiting.get()
            if isinstance(first, _Again):
                self._settled(self._write, first.batch)
                continue
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if isinstance(more, _Again):
                    self._waiting.put(more)  # after this batch
                    break
                batch.append(more)
            self._settled(self._prepare, batch)

    def _settled(self, work, batch: list[_Pending]) -> None:
        """work(batch, answers), with every request of the batch answered that it has not
        handed on; an error no request is at fault for answers all."""
        answers = _Answers()
        try:
            work(batch, answers)
        except BaseException as exc:  # noqa: BLE001 - the thread must outlive any one batch
            for pending in batch:
                answers.give(pending, exc, failed=True)
        answers.hand_over()

    def _prepare(self, batch: list[_Pending], answers: _Answers) -> None:
        batch = _check_bodies(batch, answers)
        answers.hand_over()  # the refused ones now
        if not batch:
            return
        cursor = self._cursors.get()  # waits while PIPELINE batches are in flight
        under = contextlib.ExitStack()
        written_alone = None  # or how _write is to write it: whole first, or each request alone
        try:
            with self._store.lock("analytics.statements"), stored_ids.kept_for(self._store) as kept:
                ids = [pending.row[0] for pending in batch]
                if not _may_fly(batch, ids, kept):
                    written_alone = True
                else:
                    now = under.enter_context(under_way(self._clock))
                    cursor.execute("BEGIN TRANSACTION")
                    try:
                        _insert(cursor, batch, now, in_flight=True)
                    except Exception as exc:  # noqa: BLE001 - refused whole (StatementConflict …): each alone
                        with contextlib.suppress(Exception):
                            cursor.execute("ROLLBACK")
                        written_alone = isinstance(exc, stored_ids.Stale)
                    else:
                        kept.flying(ids)
        except BaseException:
            under.close()
            self._cursors.put(cursor)
            raise
        if written_alone is not None:
            under.close()
            self._cursors.put(cursor)
            self._write(batch, answers, whole=written_alone)
            return
        self._committing.put(_InFlight(cursor, batch, ids, under))

    def _commit(self) -> None:
        while True:
            flight = self._committing.get()
            answers = _Answers()
            kept = stored_ids.kept_of(self._store)
            try:
                flight.cursor.execute("COMMIT")
            except Exception:  # noqa: BLE001 - written again by the writer, on its own
                with contextlib.suppress(Exception):
                    flight.cursor.execute("ROLLBACK")
                kept.landed(flight.ids, committed=False)
                self._waiting.put(_Again(flight.batch))
            else:
                kept.landed(flight.ids, committed=True)
                self._done(flight.batch, answers)
            finally:
                flight.done_under_way.close()
                self._cursors.put(flight.cursor)
            answers.hand_over()

    def _write(self, batch: list[_Pending], answers: _Answers, whole: bool = True) -> None:
        """The batch as one write (with no batch in flight), or each request alone when it is
        refused whole or `whole` is false."""
        with under_way(self._clock) as now, \
                self._store.lock("analytics.statements"), stored_ids.kept_for(self._store) as kept:
            kept.wait_landed()
            if whole:
                try:
                    self._store.write(lambda cur: _insert(cur, batch, now))
                    kept.committed()
                except Exception:
                    if len(batch) == 1:
                        raise
                else:
                    self._done(batch, answers)
                    return
            # Some request of the batch may be at fault: each alone, so that only it is refused.
            for pending in batch:
                try:
                    self._store.write(lambda cur, one=pending: _insert(cur, [one], now))
                    kept.committed()
                except Exception as exc:  # noqa: BLE001 - its own answer (ManabiError: 400/409/503)
                    answers.give(pending, exc, failed=True)
                else:
                    self._done([pending], answers)

    def _done(self, committed: list[_Pending], answers: _Answers) -> None:
        self.batches += 1
        self.statements += len(committed)
        for pending in committed:
            answers.give(pending, pending.row[0])


def _may_fly(batch: list[_Pending], ids: list[str], kept: stored_ids.StoredIds) -> bool:
    """Whether the batch may commit while the writer prepares others: the hashes describe the
    table (else they are read, with nothing in flight), no statement of it voids another (its
    UPDATE and the voiding statements the hashes keep want the table as it is), and no id of it
    is in a batch still in flight (looked up, it would not be seen)."""
    voids = lrs.ROW_COLUMNS.index("voids_id")
    return (kept.describes is not None and not kept.uncommitted
            and all(pending.row[voids] is None for pending in batch)
            and not kept.in_flight_ids.intersection(ids))


def one_line_object(body: bytes) -> bool:
    """Whether a request's body can be checked with its batch's others by the compiled reader
    (one JSON object on one line, as apps send it)."""
    return body[:1] == b"{" and b"\n" not in body and b"\r" not in body


def _check_bodies(batch: list[_Pending], answers: _Answers) -> list[_Pending]:
    """The batch with every body checked into its row, less the requests that were refused
    (their futures have the error). The bodies are read as the lines of one JSONL text by the
    compiled reader that reads bulk files (statement_lines), without Python's per-statement
    work for those of an app's usual shape; the others go through the full validator, each
    with its own answer. (On the event loop the validator and the row were half of a
    request's time.)"""
    sent = [pending for pending in batch if pending.body is not None]
    if not sent:
        return batch
    lines = statement_lines.read(b"\n".join(p.body for p in sent) + b"\n", workers=1)
    # By column (Arrow's to_pylist, by row, cost ten times as much: 15 ms for 64 statements).
    facts = lines.facts.to_pydict()
    usual = {n: index for index, n in enumerate(facts["n"]) if facts["id"][index] is not None}
    for place, pending in enumerate(sent):  # no body is blank: line `place` is sent[place]
        index = usual.get(place)
        try:
            pending.row = _checked_row(pending.body) if index is None else _usual_row(facts, index, pending.body)
        except InvalidInput as exc:
            answers.give(pending, exc, failed=True)
    return [pending for pending in batch if pending.row is not None]


# What every statement of the usual shape has alike (statement_lines.FACTS_SQL).
_USUAL = {"object_type": "Activity", "voids_id": None, "version": None}


def _usual_row(facts: dict[str, list], index: int, body: bytes) -> tuple:
    """lrs.statement_row's tuple from the reader's facts (an Activity, no voiding, version 1.0.0);
    the text kept is the body as sent (its id too, as a bulk file's lines)."""
    values = {**_USUAL, "id": str(facts["id"][index]), "raw": body.decode()}
    return tuple(values[name] if name in values else facts[name][index] for name in lrs.ROW_COLUMNS)


def _checked_row(body: bytes) -> tuple:
    """A body of an unusual shape (or broken), through the full validator, as the handler would."""
    checked = lrs.checked_statements(parse_statements(body))
    attachments.check_parts(checked, [])
    return lrs.statement_row(checked[0])


def _insert(cur, batch: list[_Pending], now: datetime, in_flight: bool = False) -> None:
    """The batch's statements, one INSERT per client app (in the order they arrived)."""
    by_client: dict[int, list[tuple]] = {}
    for pending in batch:
        by_client.setdefault(pending.client_id, []).append(pending.row)
    for client_id, rows in by_client.items():
        lrs.insert_live(cur, rows, client_id, now, in_flight=in_flight)


_writers: weakref.WeakKeyDictionary[Store, GroupWriter] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def writer_for(store: Store, clock: Clock) -> GroupWriter:
    """The store's group writer in this process (started on first use)."""
    with _writers_lock:
        writer = _writers.get(store)
        if writer is None:
            writer = _writers[store] = GroupWriter(store, clock)
        return writer

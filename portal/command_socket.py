"""Commands while serving: `manabi serve` holds the DuckDB file (one process may open it), so
the server listens on a local Unix socket beside the database and runs the commands the CLI
hands it, against its own open store.

The CLI finds a live server by connecting to its database's socket (`socket_path`). It sends
its argv, its working directory and MANABI_LANG; the server runs the same typer app in a
thread of its own (its own cursor) and streams stdout, stderr and the exit code back as they
come, asking the CLI for its stdin or a password prompt's answer only when the command reads
them. Output, --json and exit codes are then those of the command run directly.

Only the server's own user can use the socket: the file is made mode 0600 and the server
checks each peer's uid (SO_PEERCRED) before it reads a byte.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import json
import os
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Frames are a kind byte and a 4-byte length, then the payload.
# Client to server: HEADER (JSON), STDIN (a chunk; empty at end of input), ANSWER (a prompt's).
# Server to client: OUT, ERR (text), NEED_STDIN, PROMPT (JSON), EXIT (the code, as text).
HEADER, STDIN, ANSWER = b"H", b"I", b"A"
OUT, ERR, NEED_STDIN, PROMPT, EXIT = b"O", b"E", b"R", b"P", b"X"
_FRAME = struct.Struct(">cI")
# A Unix socket path holds at most 107 bytes on Linux; longer database paths use a hashed
# name in a private folder of this user's instead.
_MAX_SOCKET_PATH = 100
# How long a stopping server waits for handed commands still running (it must end in 10 s);
# MANABI_STOP_GRACE_SECONDS changes it.
STOP_GRACE_S = 5.0


def socket_path(db_path: str | Path) -> Path:
    """The socket of the server serving `db_path`: `<db>.sock`, or a hashed name under
    /tmp/manabi-<uid>/ when that path is too long for a Unix socket."""
    resolved = Path(db_path).resolve()
    beside = resolved.with_name(resolved.name + ".sock")
    if len(os.fsencode(beside)) <= _MAX_SOCKET_PATH:
        return beside
    digest = hashlib.sha256(os.fsencode(resolved)).hexdigest()[:24]
    return Path(f"/tmp/manabi-{os.getuid()}") / f"{digest}.sock"


def _peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end of a Unix socket (Linux SO_PEERCRED)."""
    return struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]


def _send(sock: socket.socket, kind: bytes, payload: bytes = b"") -> None:
    sock.sendall(_FRAME.pack(kind, len(payload)) + payload)


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("the other side closed the command socket")
        chunks += chunk
    return bytes(chunks)


def _receive(sock: socket.socket) -> tuple[bytes, bytes]:
    kind, size = _FRAME.unpack(_receive_exactly(sock, _FRAME.size))
    return kind, _receive_exactly(sock, size)


# ---------------------------------------------------------------- the server side


class CallerGone(Exception):  # noqa: N818 - a state, not a failure of ours
    """The command line that handed the command went away (Ctrl-C). Not an OSError, so that
    the command's own handling of a closed pipe (typer swaps sys.stdout) stays out of it."""


@contextlib.contextmanager
def _to_caller() -> Any:
    try:
        yield
    except OSError as exc:
        raise CallerGone() from exc


@dataclass
class Handed:
    """A command handed over by a CLI, as the thread running it sees it."""

    runtime: Any  # portal.runtime.Runtime (not imported here: the runtime imports the portal)
    lang: str | None
    cwd: Path
    sock: socket.socket
    _stdin: bytearray = field(default_factory=bytearray)
    _stdin_ended: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Paths the caller named relative to its folder, as made absolute -> as typed.
    anchored: dict[str, str] = field(default_factory=dict)

    def write(self, kind: bytes, text: str) -> None:
        # Echo a path as the caller typed it, as the command run directly would.
        for absolute in sorted(self.anchored, key=len, reverse=True):
            text = text.replace(absolute, self.anchored[absolute])
        with self._lock, _to_caller():
            _send(self.sock, kind, text.encode("utf-8"))

    def read_stdin(self, wanted: int = -1, *, line: bool = False) -> str:
        while not self._stdin_ended and not self._has(wanted, line):
            with self._lock, _to_caller():
                _send(self.sock, NEED_STDIN)
                kind, chunk = _receive(self.sock)
            if kind != STDIN:
                raise CallerGone()
            if chunk:
                self._stdin += chunk
            else:
                self._stdin_ended = True
        data = bytes(self._stdin)
        end = len(data)
        if line and b"\n" in data:
            end = data.index(b"\n") + 1
        if wanted >= 0:
            end = min(end, wanted)
        # Never cut a UTF-8 character in two.
        while end < len(data) and end > 0 and (data[end] & 0xC0) == 0x80:
            end -= 1
        del self._stdin[:end]
        return data[:end].decode("utf-8", errors="replace")

    def _has(self, wanted: int, line: bool) -> bool:
        if line:
            return b"\n" in self._stdin
        return wanted >= 0 and len(self._stdin) >= wanted

    def prompt(self, text: str, hide_input: bool) -> str:
        with self._lock, _to_caller():
            _send(self.sock, PROMPT, json.dumps({"text": text, "hide_input": hide_input}).encode())
            kind, answer = _receive(self.sock)
        if kind != ANSWER:
            raise CallerGone()
        if answer == b"\x00":  # the person gave up (Ctrl-C, end of input)
            import typer

            raise typer.Abort()
        return answer.decode("utf-8")


_handed: contextvars.ContextVar[Handed | None] = contextvars.ContextVar("manabi_handed", default=None)


def handed() -> Handed | None:
    """The handed command this thread runs, or None when the CLI runs on its own."""
    return _handed.get()


def prompt(text: str, *, hide_input: bool = False) -> str:
    """typer.prompt, asked at the person's terminal also when the server runs the command."""
    current = handed()
    if current is None:
        import typer

        return typer.prompt(text, hide_input=hide_input)
    return current.prompt(text, hide_input)


def anchor(path: str) -> str:
    """A relative path named on the command line, made absolute against the caller's folder
    (the server's own folder is not the caller's)."""
    current = handed()
    if current is None or os.path.isabs(path) or not path:
        return path
    absolute = os.path.join(current.cwd, path)
    current.anchored[absolute] = path
    return absolute


class _RoutedText(io.TextIOBase):
    """sys.stdout / sys.stderr / sys.stdin of the server: a thread running a handed command
    reads and writes its caller's streams, every other thread the process's own."""

    def __init__(self, own: Any, kind: bytes) -> None:
        self._own = own
        self._kind = kind

    @property
    def encoding(self) -> str:  # click uses a stream as it is when encoding and errors are set
        return "utf-8" if handed() else self._own.encoding

    @property
    def errors(self) -> str:
        return "strict" if handed() else (self._own.errors or "strict")

    def writable(self) -> bool:
        return self._kind != STDIN

    def readable(self) -> bool:
        return self._kind == STDIN

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("write() argument must be str")
        current = handed()
        if current is None:
            return self._own.write(text)
        current.write(self._kind, text)
        return len(text)

    def read(self, size: int | None = -1) -> str:
        current = handed()
        if current is None:
            return self._own.read(size)
        return current.read_stdin(-1 if size is None else size)

    def readline(self, size: int | None = -1) -> str:
        current = handed()
        if current is None:
            return self._own.readline(size)
        return current.read_stdin(-1 if size is None else size, line=True)

    def flush(self) -> None:
        if handed() is None:
            self._own.flush()

    def isatty(self) -> bool:
        return False if handed() else self._own.isatty()

    def fileno(self) -> int:
        if handed():
            raise io.UnsupportedOperation("a handed command's stream has no file descriptor")
        return self._own.fileno()


def _route_standard_streams() -> None:
    if not isinstance(sys.stdout, _RoutedText):
        sys.stdout = _RoutedText(sys.stdout, OUT)
        sys.stderr = _RoutedText(sys.stderr, ERR)
        sys.stdin = _RoutedText(sys.stdin, STDIN)


class CommandServer:
    """The listening socket of one served database, and the handed commands in flight."""

    def __init__(self, runtime: Any, run: Callable[[list[str]], int]) -> None:
        self.runtime = runtime
        self.path = socket_path(runtime.store.path)
        self._run = run
        self._listener: socket.socket | None = None
        self._running: set[threading.Thread] = set()
        self._running_lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.path.parent.stat().st_uid != os.getuid():
            raise RuntimeError(f"{self.path.parent} belongs to another user: not serving commands there")
        if is_live(self.path):
            raise RuntimeError(f"another server answers on {self.path}")
        # A socket left by a server that was killed: nobody answers on it.
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Made 0600 from the start (no moment where others could connect).
        old_umask = os.umask(0o177)
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old_umask)
        listener.listen(16)
        self._listener = listener
        _route_standard_streams()
        threading.Thread(target=self._accept, name="manabi-commands", daemon=True).start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed by stop()
            thread = threading.Thread(target=self._serve, args=(conn,), name="manabi-command", daemon=True)
            with self._running_lock:
                self._running.add(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                if _peer_uid(conn) != os.getuid():
                    return
                kind, payload = _receive(conn)
                if kind != HEADER:
                    return
                header = json.loads(payload)
                current = Handed(self.runtime, header.get("lang"), Path(header["cwd"]), conn)
                code = self._run_handed(current, header["argv"])
                with contextlib.suppress(OSError):
                    _send(conn, EXIT, str(code).encode())
        except (OSError, CallerGone, ValueError):
            pass  # the caller went away (Ctrl-C): its command ended at its next write or read
        finally:
            with self._running_lock:
                self._running.discard(threading.current_thread())

    def _run_handed(self, current: Handed, argv: list[str]) -> int:
        token = _handed.set(current)
        try:
            return self._run(argv)
        except CallerGone:
            raise
        except BaseException:  # noqa: BLE001 - a bug in a command: its traceback to the caller, as run directly
            current.write(ERR, traceback.format_exc())
            return 1
        finally:
            _handed.reset(token)
            self.runtime.store.release_cursor()

    def stop(self) -> None:
        """Take no new commands, let those running finish (up to STOP_GRACE_S), remove the socket."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        self.path.unlink(missing_ok=True)
        from kernel.config import setting

        deadline = time.monotonic() + float(setting("stop_grace_seconds", str(STOP_GRACE_S)) or STOP_GRACE_S)
        with self._running_lock:
            running = list(self._running)
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))


_serving: dict[str, CommandServer] = {}
_serving_lock = threading.Lock()


def serve_commands(runtime: Any, run: Callable[[list[str]], int]) -> CommandServer:
    """Start taking commands for `runtime`'s database, once per process."""
    with _serving_lock:
        server = _serving.get(runtime.store.path)
        if server is None:
            server = _serving[runtime.store.path] = CommandServer(runtime, run)
            server.start()
        return server


# ---------------------------------------------------------------- the command line's side

# Run here even while a server serves the database: they never open it (help, the version),
# open their own (bench, tenants: each municipality's), refuse to (restore), or are the server
# (serve); the lake's board reads only the lake's files (and may start Spark: not in the server).
_RUN_HERE = {"serve", "restore", "bench", "tenants"}
_RUN_HERE_SUB = {("lake", "board")}


def served_socket(argv: list[str]) -> Path | None:
    """The socket of a server serving the database `argv` names (--db, MANABI_DB or the
    default), when one is live and the command is one to hand to it."""
    from kernel.config import load_settings

    db, position = None, 0
    while position < len(argv):
        word = argv[position]
        if word == "--db" and position + 1 < len(argv):
            db, position = argv[position + 1], position + 2
        elif word.startswith("--db="):
            db, position = word.removeprefix("--db="), position + 1
        elif word.startswith("-"):
            position += 1
        else:
            break
    else:
        return None  # no command: help or the version
    if argv[position] in _RUN_HERE or tuple(argv[position:position + 2]) in _RUN_HERE_SUB or "--help" in argv:
        return None
    path = socket_path(load_settings(db).db_path)
    return path if is_live(path) else None



def is_live(path: Path) -> bool:
    """Whether a server of this user's answers on the socket at `path` (another user's
    socket is never handed a command, nor its input)."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return _peer_uid(probe) == os.getuid()


def hand_over(path: Path, argv: list[str]) -> int:
    """Run `argv` in the server listening at `path`; copy its output here as it comes and
    return its exit code."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    try:
        with sock:
            return _relay(sock, argv)
    except KeyboardInterrupt:
        # As typer says on Ctrl-C. The server's run of the command ends at its next output.
        sys.stderr.write("\nAborted!\n")
        return 1
    except ConnectionError:
        # The server stopped (or was stopped) before the command's end: say so plainly.
        from kernel.config import setting
        from kernel.i18n import DEFAULT_LANGUAGE, Translator
        from portal.runtime import catalogue

        t = Translator(setting("lang", DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE, catalogue())
        sys.stderr.write(t("cli.server_went_away") + "\n")
        return 1


def _relay(sock: socket.socket, argv: list[str]) -> int:
    """Send the command; copy what the server says to this process's streams as it comes."""
    header = {"argv": argv, "cwd": os.getcwd(), "lang": os.environ.get("MANABI_LANG")}
    _send(sock, HEADER, json.dumps(header).encode())
    while True:
        kind, payload = _receive(sock)
        if kind == OUT:
            sys.stdout.write(payload.decode("utf-8"))
            sys.stdout.flush()
        elif kind == ERR:
            sys.stderr.write(payload.decode("utf-8"))
            sys.stderr.flush()
        elif kind == NEED_STDIN:
            sys.stdout.flush()
            _send(sock, STDIN, os.read(sys.stdin.fileno(), 65536))
        elif kind == PROMPT:
            import typer  # only now: the command line hands over without loading typer

            asked = json.loads(payload)
            try:
                answer = typer.prompt(asked["text"], hide_input=asked["hide_input"]).encode("utf-8")
            except (typer.Abort, EOFError):
                answer = b"\x00"
            _send(sock, ANSWER, answer)
        elif kind == EXIT:
            return int(payload)

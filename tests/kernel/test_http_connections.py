"""The server's connections answer without Nagle's delay (kernel.http.answer_without_delay).

The listening socket here is bound by Streamlit's own code, as `manabi serve` binds it; the
connection is accepted by asyncio, as uvicorn accepts it; the server's side of it is read back."""

from __future__ import annotations

import asyncio
import socket

from streamlit.web.server.starlette.starlette_server import _bind_socket

from kernel.http import answer_without_delay
from tests.conftest import run_async


def accepted_nodelay() -> int:
    """TCP_NODELAY on the server's side of one connection to a socket Streamlit bound."""
    listening = _bind_socket("127.0.0.1", 0, 8)
    port = listening.getsockname()[1]
    seen: asyncio.Future = None

    async def main() -> int:
        nonlocal seen
        seen = asyncio.get_running_loop().create_future()

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accept, sock=listening)
        async with server:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                return await asyncio.wait_for(seen, 10)
            finally:
                writer.close()

    return run_async(main())


def test_streamlits_socket_gets_nodelay_with_the_hook():
    # Why the hook exists: Streamlit binds with proto 0, and asyncio sets TCP_NODELAY only for
    # IPPROTO_TCP. (Should Streamlit name the protocol one day, this fails and the hook may go.)
    with _bind_socket("127.0.0.1", 0, 1) as bound:
        assert bound.proto == 0
    answer_without_delay()
    assert accepted_nodelay() != 0
    answer_without_delay()  # a second call keeps one hook
    assert accepted_nodelay() != 0

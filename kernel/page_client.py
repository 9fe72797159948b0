"""A minimal Streamlit client speaking the app's own websocket protocol, for load runs and
benchmarks (tests/quality/test_load.py, analytics/bench_live.py).

It opens `/_stcore/stream` as the browser does, asks for a page by its URL path
(BackMsg.rerun_script) and reads ForwardMsgs until the script run finishes,
recording how long the run took and whether the page showed an exception. A
`manabi_session` cookie makes it a signed-in visitor.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class PageRun:
    page: str
    seconds: float
    exception: str | None
    elements: int


class StreamlitSession:
    def __init__(self, base_url: str, cookie: str | None = None) -> None:
        self.ws_url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.origin = base_url.rstrip("/")
        self.cookie = cookie
        self._socket = None

    async def __aenter__(self) -> StreamlitSession:
        headers = {"Origin": self.origin}
        if self.cookie:
            headers["Cookie"] = f"manabi_session={self.cookie}"
        self._socket = await websockets.connect(
            self.ws_url, subprotocols=["streamlit"], additional_headers=headers, max_size=2**26,
            open_timeout=30,
        )
        return self

    async def __aexit__(self, *exc) -> None:
        await self._socket.close()

    async def run_page(self, page: str, timeout: float = 60.0) -> PageRun:
        back = BackMsg()
        back.rerun_script.page_name = page
        back.rerun_script.query_string = ""
        started = time.perf_counter()
        await self._socket.send(back.SerializeToString())
        exception, elements = None, 0
        deadline = started + timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"page {page!r} did not finish in {timeout} s")
            raw = await asyncio.wait_for(self._socket.recv(), remaining)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                elements += 1
                element = msg.delta.new_element
                if element.WhichOneof("type") == "exception":
                    exception = f"{element.exception.type}: {element.exception.message}"
            elif kind == "page_not_found":
                exception = f"page not found: {page}"
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # the page asked for a rerun: keep reading until it settles
                return PageRun(page, time.perf_counter() - started, exception, elements)

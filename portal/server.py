"""The one server process: the Streamlit UI and every module's HTTP routes.

`manabi serve` runs `streamlit run` on this file; Streamlit finds `app` (st.App)
and serves both the UI (web/app.py) and the routes on one port.
"""

import asyncio
import contextlib
import gc
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from kernel import jobs
from kernel.http import FastLanes, answer_without_delay, lanes_of
from portal import command_socket
from portal.auth import auth_secrets
from portal.cli import run_command
from portal.modules import all_jobs, all_modules
from portal.runtime import open_runtime
from portal.services import mail
from portal.ui.document import DocumentLanguage

# Before uvicorn accepts a connection (it imports this file first): see answer_without_delay.
answer_without_delay()

runtime = open_runtime()

# The log is checkpointed by a thread of its own, not by whichever COMMIT takes it past DuckDB's
# threshold (a learning app's, under classroom load): kernel/store.py.
runtime.store.checkpoint_in_background()

# We navigate with st.navigation only: never look for a legacy (v1) pages folder.
PagesManager.uses_pages_directory = False

# The work the server does by itself (kernel.jobs), in a background thread of this process, which
# holds the database file (a command run by cron could not open it).
jobs.start(runtime.store, runtime.clock, all_jobs())

# The mail sender (portal/services/mail.py): delivers the outbox over SMTP and runs the modules'
# mail jobs (loan due, session starting) every minute, in a background thread of this process.
mail.start(runtime.store, runtime.clock)

# Commands staff run while the portal is up (`manabi ...`) come over a local socket and run
# here, on this process's store (portal/command_socket.py).
_commands = command_socket.serve_commands(runtime, run_command)


@contextlib.asynccontextmanager
async def _lifespan(_app):
    # What the server has made by now (Streamlit, the modules, their routes: some 150,000
    # objects) lives as long as it does: kept out of the collector's full passes, which
    # otherwise stopped every request for 40-60 ms a few times a minute under classroom load.
    gc.freeze()
    yield
    # Uvicorn's graceful stop (SIGTERM, SIGINT) has let the requests in flight finish; now the
    # socket goes, handed commands still running get a moment to end, and the file is
    # checkpointed. Uvicorn then re-raises the signal, so no atexit hook would run.
    await asyncio.to_thread(_commands.stop)
    with contextlib.suppress(Exception):  # a write still open: DuckDB's log replays it at the next start
        runtime.store.checkpoint()

_routes = [route for spec in all_modules() if spec.routes for route in spec.routes()]

app = st.App(
    Path(__file__).resolve().parent.parent / "web" / "app.py",
    routes=_routes,
    # The busiest machine requests take their routes' fast lanes before Streamlit's middleware
    # (kernel/http.py); pages get <html lang> and Streamlit's own texts in the page's language
    # (portal/ui/document.py).
    middleware=[Middleware(FastLanes, lanes=lanes_of(_routes)), Middleware(DocumentLanguage)],
    secrets=auth_secrets(runtime.settings),
    lifespan=_lifespan,
)

"""The one server process: the Streamlit UI and every module's HTTP routes.

`manabi serve` runs `streamlit run` on this file; Streamlit finds `app` (st.App)
and serves both the UI (web/app.py) and the routes on one port.
"""

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from kernel import jobs
from portal.auth import auth_secrets
from portal.modules import all_jobs, all_modules
from portal.runtime import open_runtime

runtime = open_runtime()

# We navigate with st.navigation only: never look for a legacy (v1) pages folder.
PagesManager.uses_pages_directory = False

# The work the server does by itself (kernel.jobs), in a background thread of this process, which
# holds the database file (a command run by cron could not open it).
jobs.start(runtime.store, runtime.clock, all_jobs())

app = st.App(
    Path(__file__).resolve().parent.parent / "web" / "app.py",
    routes=[route for spec in all_modules() if spec.routes for route in spec.routes()],
    secrets=auth_secrets(runtime.settings),
)

"""The one server process: the Streamlit UI and every module's HTTP routes.

`manabi serve` runs `streamlit run` on this file; Streamlit finds `app` (st.App)
and serves both the UI (portal/app.py) and the routes on one port.
"""

from pathlib import Path

import streamlit as st

from portal.modules import all_modules
from portal.runtime import open_runtime

# Open (and migrate) the database before the first request, so a bad database
# stops the server at start with a clear message instead of failing later.
open_runtime()

app = st.App(
    Path(__file__).with_name("app.py"),
    routes=[route for spec in all_modules() if spec.routes for route in spec.routes()],
)

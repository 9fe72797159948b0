"""The Streamlit entry script: the shell runs around whichever page is open."""

from portal.shell import run

run()

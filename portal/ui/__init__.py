"""The portal's Streamlit shell (navigation, sign-in state, language)."""

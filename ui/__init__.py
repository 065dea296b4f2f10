"""Streamlit-only helpers (with pages/ and app.py, the only code that imports streamlit)."""

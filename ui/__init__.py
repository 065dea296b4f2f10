"""Streamlit-only helpers (with views/ and app.py, the only code that imports streamlit)."""

"""Open any page of the app in AppTest by its URL path: the tests' (and the benches') one way.

``AppTest.switch_page`` takes a file, and a model's page is no file: ``ui/pages.py`` makes it an
``st.Page`` of a function at the spec's ``url_path``. Streamlit names every page by a hash of its
URL path, and AppTest keeps the pages ``st.navigation`` registered in its last run, so the page
is looked up there by its URL path (an unknown one is refused with the list) and requested the
way ``switch_page`` requests a file's page. (No side effects on import: the benches use it too.)
"""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ui.navigation import entry_for


def switch_to(app: AppTest, page: str) -> AppTest:
    """Like ``app.switch_page``: the next ``app.run()`` opens ``page``, a URL path ("cnn",
    "language-model", "runs"; "" for home) or a model's name ("lm"). Run the app once first."""
    url_path = entry_for(page).url_path
    registered = app._registered_pages     # hash -> info, from the last run's st.navigation
    if not registered:
        raise RuntimeError("run the app once before switching pages: st.navigation registers "
                           "them in its first run")
    found = [page_hash for page_hash, info in registered.items()
             if info.get("url_pathname") == url_path]
    if not found:
        known = ", ".join(repr(info.get("url_pathname")) for info in registered.values())
        raise ValueError(f"no page at /{url_path} in the app's navigation; its pages: {known}")
    app._page_hash = found[0]      # what AppTest.switch_page sets for a file's page
    return app

from ui.history_view import history_page

history_page()

from ui.compare_views import comparison_page

comparison_page()

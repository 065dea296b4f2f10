from ui.class_views import page

page()

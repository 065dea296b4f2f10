from ui.began_views import side_by_side
from ui.model_page import render

render("began")
side_by_side()

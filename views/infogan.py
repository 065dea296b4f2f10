from ui.model_page import render

render("infogan")

from ui.lm_page import render

render()

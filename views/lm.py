from ui.shell import render

render("lm")

from ui.shell import render

render("infogan")

from ui.shell import render

render("sagan")

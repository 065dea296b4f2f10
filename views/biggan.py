from ui.shell import render

render("biggan")

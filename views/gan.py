from ui.shell import render

render("gan")

from ui.shell import render

render("began")

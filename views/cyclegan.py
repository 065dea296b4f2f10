from ui.shell import render

render("cyclegan")

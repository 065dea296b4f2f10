from ui.shell import render

render("stylegan")

from ui.shell import render

render("dcgan")

from ui.shell import render

render("mlp")

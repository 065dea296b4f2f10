from ui.shell import render

render("softmax")

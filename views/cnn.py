from ui.shell import render

render("cnn")

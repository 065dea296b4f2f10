from ui.shell import render

render("resnet")

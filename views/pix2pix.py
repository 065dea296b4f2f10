from ui.shell import render

render("pix2pix")

from ui.classifier_page import render

render("softmax")

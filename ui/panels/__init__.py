"""Panels: a model's own page widgets, named by its ModelSpec.panel ("ui.panels.<model>:<Class>")."""

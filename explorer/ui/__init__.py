"""Gradio UI: one module per tab (`build_<tab>_tab(service)`), wired to pure functions and the service."""

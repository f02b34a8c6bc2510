"""Pure view functions, one module per tab: results in, figures / tables / markdown / panel images out.
No Gradio here; tested without a server."""

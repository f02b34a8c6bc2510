"""Latent Space Explorer: trained VAEs, latent diffusion and the Gradio app that shows them."""

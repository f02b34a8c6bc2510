"""The catalogue of checkpoint roles: which shipped checkpoint plays which part in the lessons.

Modules ask for a role (`roles.DIGIT_VAE`, `roles.CLASSIFIER` ...) instead of spelling checkpoint names, so a
renamed or retrained checkpoint is changed here once. Each role names a checkpoint folder under checkpoints/
(its config.json "name"); `ROLES` lists them all for documentation and tests, and `present(service)` says which
roles the running service can fill.
"""
from __future__ import annotations

DIGIT_VAE = "sd-vae-mnist-c4"  # the default digit VAE: SD-style, f=4, 4 channels (Reconstruction, Exercise 1)
REGULARISED_VAE = "vae-mnist-kl1"  # the same network with KL weight 1 (the latent map's comparison)
PLANAR_VAE = "vae-mnist-2d"  # a 2-D latent: the manifold picture
CHAPTER_VAE = "chapter-vae-mnist"  # the chapter's Conv 128-256-512 VAE, f=8
PHOTO_VAE = "sd-vae-photos-f8c4"  # colour photos, f=8, 4 channels (48x)
CLASSIFIER = "mnist-classifier"  # grades generated digits and labels latent-map points
LATENT_DENOISER = "ldm-mnist"  # diffuses the latents of LATENT_DENOISER_VAE
# DIGIT_VAE with its decoder fine-tuned for the denoiser's samples (explorer/trainers/decoder.py); its encoder,
# so its latents and scale_factor, are DIGIT_VAE's
LATENT_DENOISER_VAE = "sd-vae-mnist-ft"
PIXEL_DENOISER = "pixel-dm-mnist"  # the same UNet design on 1x28x28 pixels
CHANNEL_SWEEP_PREFIX = "sd-vae-mnist-c"  # sd-vae-mnist-c1 ... c8: the latent-channel sweep

ROLES: dict[str, str] = {
    "digit_vae": DIGIT_VAE, "regularised_vae": REGULARISED_VAE, "planar_vae": PLANAR_VAE,
    "chapter_vae": CHAPTER_VAE, "photo_vae": PHOTO_VAE, "classifier": CLASSIFIER,
    "latent_denoiser": LATENT_DENOISER, "latent_denoiser_vae": LATENT_DENOISER_VAE,
    "pixel_denoiser": PIXEL_DENOISER,
}
DENOISERS = {"latent": LATENT_DENOISER, "pixel": PIXEL_DENOISER}  # by the space they diffuse in


def present(service) -> dict[str, str]:
    """{role: checkpoint name} for the roles whose checkpoint `service` (anything with names()) holds."""
    names = set(service.names())
    return {role: name for role, name in ROLES.items() if name in names}

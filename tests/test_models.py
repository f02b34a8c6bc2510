"""Model families: shapes, the chapter's printout, posterior maths."""
import torch

from explorer.compression import compression
from explorer.models import ChapterVAE, ChapterVAEConfig, DiagonalGaussian, MLPVAE, MLPVAEConfig, SDVAE, SDVAEConfig
from explorer.models import UNet, UNetConfig


def test_chapter_vae_reproduces_the_chapter_printout():
    model = ChapterVAE(ChapterVAEConfig(image_channels=3, latent_channels=4)).eval()
    x = torch.rand(1, 3, 512, 512)
    with torch.inference_mode():
        z = model.encode(x).mode()
        out = model.decode(z)
    assert tuple(z.shape) == (1, 4, 64, 64)
    assert tuple(out.shape) == (1, 3, 512, 512)
    result = compression(512, 512, 3, model.downsampling_factor, 4)
    assert (x.numel(), z.numel()) == (786_432, 16_384) == (result.pixel_dims, result.latent_dims)
    assert f"{x.numel() / z.numel():.1f}x" == "48.0x"


def test_chapter_vae_layers_are_as_taught():
    model = ChapterVAE(ChapterVAEConfig(image_channels=3, latent_channels=4))
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [128, 256, 512, 8]
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1]
    assert any(isinstance(m, torch.nn.SiLU) for m in model.encoder)
    assert sum(isinstance(m, torch.nn.ConvTranspose2d) for m in model.decoder) == 3


def test_sd_vae_shapes_for_several_factors():
    for mults, factor, size in (([1, 2, 2], 4, 28), ([1, 2, 2, 2], 8, 64)):
        model = SDVAE(SDVAEConfig(image_channels=1, latent_channels=3, base_channels=8, channel_mults=mults,
                                  norm_groups=4)).eval()
        assert model.downsampling_factor == factor
        with torch.inference_mode():
            posterior = model.encode(torch.rand(2, 1, size, size))
            assert tuple(posterior.mode().shape) == (2, 3, size // factor, size // factor)
            assert tuple(model.decode(posterior.sample()).shape) == (2, 1, size, size)


def test_mlp_vae_has_a_two_dimensional_latent():
    model = MLPVAE(MLPVAEConfig(latent_dim=2, hidden=[16])).eval()
    with torch.inference_mode():
        z = model.encode(torch.rand(5, 1, 28, 28)).mode()
        assert tuple(z.shape) == (5, 2)
        image = model.decode(z)
    assert tuple(image.shape) == (5, 1, 28, 28) and image.min() >= 0 and image.max() <= 1  # sigmoid output


def test_posterior_kl_and_reparameterisation():
    params = torch.zeros(1, 4, 2, 2)  # mean 0, logvar 0 -> N(0, I): KL 0
    assert torch.allclose(DiagonalGaussian(params).kl(), torch.zeros(1))
    params = torch.cat([torch.full((1, 2, 2, 2), 1.0), torch.zeros(1, 2, 2, 2)], dim=1)
    assert torch.allclose(DiagonalGaussian(params).kl(), torch.tensor([0.5 * 8]))  # 0.5 * sum(mu^2)
    post = DiagonalGaussian(torch.cat([torch.zeros(1, 1, 64, 64), torch.full((1, 1, 64, 64), 2 * torch.log(torch.tensor(3.0)))], 1))
    a = post.sample(torch.Generator().manual_seed(0))
    b = post.sample(torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and abs(a.std().item() - 3.0) < 0.2


def test_unet_keeps_shape_for_latents_and_pixels():
    for channels, size in ((4, 7), (1, 28)):
        net = UNet(UNetConfig(in_channels=channels, base_channels=8, channel_mults=[1, 2, 2], norm_groups=4)).eval()
        x = torch.randn(3, channels, size, size)
        with torch.inference_mode():
            out = net(x, torch.tensor([0, 500, 999]), torch.tensor([0, 5, 10]))
        assert out.shape == x.shape


def test_tiled_vae_runs_each_tile_as_at_training_size():
    torch.manual_seed(0)
    config = SDVAEConfig(image_channels=3, latent_channels=4, base_channels=8, channel_mults=[1, 1, 1, 1],
                         norm_groups=4, mid_attention=False, tile_size=32)
    model = SDVAE(config).eval()
    x = torch.rand(1, 3, 64, 96)
    with torch.inference_mode():
        whole = model.encode(x).mode()
        tile = model.encode(x[:, :, 32:64, 32:64]).mode()  # one tile on its own
        assert tuple(whole.shape) == (1, 4, 8, 12)
        assert torch.allclose(whole[:, :, 4:8, 4:8], tile, atol=1e-5)  # GroupNorm saw only that tile
        assert tuple(model.decode(whole).shape) == (1, 3, 64, 96)
        odd = model.encode(torch.rand(1, 3, 48, 40)).mode()  # not multiples of the tile: padded, then cropped
        assert tuple(odd.shape) == (1, 4, 6, 5) and tuple(model.decode(odd).shape) == (1, 3, 48, 40)
        model.config.tile_size = None
        assert not torch.allclose(model.encode(x).mode()[:, :, 4:8, 4:8], tile, atol=1e-3)  # untiled differs


def test_every_family_answers_factor_and_latent_shape_as_its_network_does():
    """The catalogue's geometry hooks (config.factor, config.latent_shape((C, H, W))) agree with a forward pass."""
    from explorer.models import FAMILIES, build_model

    cases = {
        "chapter_vae": ({"image_channels": 1, "latent_channels": 4}, (1, 32, 32), 8, (4, 4, 4)),
        "sd_vae": ({"image_channels": 3, "latent_channels": 2, "base_channels": 8, "channel_mults": [1, 2, 2, 2],
                    "norm_groups": 4, "mid_attention": False}, (3, 40, 24), 8, (2, 5, 3)),
        "mlp_vae": ({"latent_dim": 3, "hidden": [16]}, (1, 28, 28), 1, (3,)),
        "unet": ({"in_channels": 4, "base_channels": 8, "norm_groups": 4, "sample_size": 7}, (4, 7, 7), 1, (4, 7, 7)),
        "classifier": ({"width": 4}, (1, 28, 28), 1, (10,)),
    }
    assert set(cases) <= set(FAMILIES)
    for family, (config, input_shape, factor, latent) in cases.items():
        model = build_model(family, config).eval()
        assert model.config.factor == factor, family
        assert tuple(model.config.latent_shape(input_shape)) == latent, family
        x = torch.rand(1, *input_shape)
        with torch.inference_mode():
            if family == "unet":
                out = model(x, torch.tensor([5]), torch.tensor([3]))
            elif family == "classifier":
                out = model(x)
            else:
                out = model.encode(x).mode()
        assert tuple(out.shape[1:]) == latent, family
    odd = SDVAEConfig(channel_mults=[1, 2, 2]).latent_shape((1, 27, 30))
    assert odd == (4, 7, 8)  # stride-2 convolutions with padding 1 round up: 27 -> 14 -> 7, 30 -> 15 -> 8

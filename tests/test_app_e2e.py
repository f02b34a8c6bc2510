"""End to end: the real app over HTTP, /models and /compression through gradio_client."""
import pytest


def test_models_lists_every_shipped_model(app_server, shipped_service):
    _, client = app_server
    models = client.predict(api_name="/models")
    names = {m["name"] for m in models}
    assert set(shipped_service.names()) == names and "sd-vae-mnist-c4" in names
    c4 = next(m for m in models if m["name"] == "sd-vae-mnist-c4")
    saved = shipped_service.metrics("sd-vae-mnist-c4")
    assert (c4["dataset"], c4["kind"], c4["family"]) == ("mnist", "vae", "sd_vae")
    assert (c4["input_shape"], c4["latent_shape"], c4["factor"], c4["pad_to"]) == ([1, 28, 28], [4, 7, 7], 4, None)
    assert c4["params"] == saved["params"] == sum(p.numel() for p in shipped_service.get("sd-vae-mnist-c4").model.parameters())
    assert c4["metrics"]["psnr"] == saved["psnr"] >= 27.0  # the quality bar, held-out digits at training time
    assert "history" not in c4["metrics"] and c4["metrics"]["n_images"] == 500
    assert [m["name"] for m in models] == shipped_service.names()


def test_compression_endpoint(app_server):
    _, client = app_server
    result = client.predict(512, 512, 3, 8, 4, api_name="/compression")
    assert result["pixel_dims"] == 786_432 and result["latent_shape"] == [4, 64, 64]
    assert result["latent_dims"] == 16_384 and result["ratio"] == 48.0


@pytest.mark.parametrize("args", [(500, 512, 3, 8, 4), (0, 512, 3, 8, 4), (512, 512, 3, 8, -1)])
def test_compression_bad_input_is_a_clear_error_and_server_survives(app_server, args):
    from gradio_client.exceptions import AppError

    _, client = app_server
    with pytest.raises(AppError, match="divisible|between"):
        client.predict(*args, api_name="/compression")
    assert client.predict(api_name="/ping") == "ok"

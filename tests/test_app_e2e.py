"""End to end: the real app over HTTP, /models and /compression through gradio_client."""
import pytest


def test_models_lists_every_shipped_model(app_server, shipped_service):
    _, client = app_server
    models = client.predict(api_name="/models")
    names = {m["name"] for m in models}
    assert set(shipped_service.names()) == names and "sd-vae-mnist-c4" in names
    c4 = next(m for m in models if m["name"] == "sd-vae-mnist-c4")
    assert c4["dataset"] == "mnist" and c4["latent_shape"] == [4, 7, 7] and c4["params"] > 100_000
    assert c4["metrics"]["psnr"] >= 27.0  # the quality bar, measured on held-out digits at training time


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

"""Latent map: projections, the projection cache, the explorer's parts (held-out latents, pair paths and their
placement on the map, the 2-D plane, the measurements) over tiny random-init models, the views (explorer/views/
latent_map.py, no server), and the public /latent_map and /interpolate APIs through the real app (shipped models)."""
from __future__ import annotations

import base64
import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from explorer import projection as projection_mod
from explorer.data import load_mnist
from explorer.latent_map import (API_FIELDS, LatentMapExplorer, blend_psnr, check_index, crop_digits, pad_digits,
                                 path_evenness, png_bytes, random_pair, tile_grid, to_uint8)
from explorer.messages import Refusal, word
from explorer.projection import IdentityProjection, PCAProjection, ProjectionCache, place


def png_pixels(data: bytes | str) -> np.ndarray:
    if isinstance(data, str) and data.startswith("data:image/png;base64,"):
        data = base64.b64decode(data.split(",", 1)[1])
    image = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    assert image.format == "PNG"
    return np.asarray(image)


# ---- pure helpers --------------------------------------------------------------------------------
def test_pad_and_crop_round_trip():
    x = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    padded = pad_digits(x, 32)
    assert padded.shape == (3, 1, 32, 32) and padded[:, :, :2].sum() == 0 and padded[:, :, :, -2:].sum() == 0
    assert np.array_equal(crop_digits(padded), x)
    assert pad_digits(x, None).shape == (3, 1, 28, 28)


def test_png_is_lossless():
    image = np.random.default_rng(1).random((28, 28))
    assert np.array_equal(png_pixels(png_bytes(image)), to_uint8(image))


def test_check_index_is_the_one_whole_number_rule():
    assert check_index(3, 10) == 3 and check_index(4.0, 10) == 4 and check_index(np.int64(9), 10) == 9
    assert check_index(" 7 ", 10) == 7 and check_index("7.0", 10) == 7
    for bad, code in ((-1, "number.out_of_range"), (10, "number.out_of_range"), (2.5, "number.not_whole"),
                      ("1.5", "number.not_whole"), ("1e2", "number.not_whole"), (float("nan"), "number.not_whole"),
                      (float("inf"), "number.not_whole"), (None, "number.empty"), ("", "number.empty"),
                      (True, "number.not_whole"), ("x", "number.not_whole")):
        with pytest.raises(Refusal, match="index") as refused:
            check_index(bad, 10)
        assert refused.value.code == code and refused.value.values["high"] == 9, bad


def test_random_pair_relations():
    labels = np.repeat(np.arange(10), 5)
    for seed in range(20):
        a, b = random_pair(labels, seed, "same")
        assert a != b and labels[a] == labels[b]
        a, b = random_pair(labels, seed, "different")
        assert labels[a] != labels[b]
    assert random_pair(labels, 7, "any") == random_pair(labels, 7, "any")  # seeded
    with pytest.raises(ValueError):
        random_pair(labels, 0, "sideways")


def test_path_evenness():
    a, b = np.zeros((4, 4)), np.ones((4, 4))
    even = np.stack([a + t * (b - a) for t in np.linspace(0, 1, 9)])
    assert path_evenness(even) == pytest.approx(1.0)
    jump = np.stack([a] * 5 + [b] * 4)
    assert path_evenness(jump) == pytest.approx(8.0)


def test_blend_psnr_tells_a_crossfade_from_a_morph():
    rng = np.random.default_rng(5)
    a, b = rng.random((28, 28)), rng.random((28, 28))
    crossfade = np.stack([(1 - t) * a + t * b for t in np.linspace(0, 1, 9)])
    assert blend_psnr(crossfade) == float("inf")  # the middle IS the 50/50 blend
    morph = crossfade.copy()
    morph[4] = rng.random((28, 28))
    assert blend_psnr(morph) < 15
    with pytest.raises(ValueError, match="odd"):
        blend_psnr(crossfade[:8])


def test_tile_grid_is_row_major():
    frames = np.arange(6)[:, None, None] * np.ones((6, 2, 2))
    grid = tile_grid(frames, 2, 3)
    assert grid.shape == (4, 6) and grid[0, 2] == 1 and grid[2, 0] == 3


# ---- projections -----------------------------------------------------------------------------------
def test_pca_matches_sklearn():
    from sklearn.decomposition import PCA

    x = np.random.default_rng(2).normal(size=(200, 3, 4, 4)) * np.linspace(0.1, 3, 48).reshape(3, 4, 4)
    ours = PCAProjection.fit(x)
    ref = PCA(n_components=2).fit(x.reshape(200, -1))
    np.testing.assert_allclose(np.abs(ours.coords), np.abs(ref.transform(x.reshape(200, -1))), atol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(ours.transform(x[:5]), ours.coords[:5])


def test_identity_projection_for_2d_latents():
    z = np.random.default_rng(3).normal(size=(10, 2))
    assert np.array_equal(IdentityProjection.fit(z).coords, z)
    assert isinstance(projection_mod.fit_projection(z, "umap"), IdentityProjection)  # no UMAP of a plane


def test_cache_fits_umap_in_background_and_never_blocks(monkeypatch):
    gate = threading.Event()
    calls = []

    def slow_fit(latents, method, **params):
        if method == "pca":
            return PCAProjection.fit(latents)
        calls.append(method)
        gate.wait(10)
        return PCAProjection.fit(latents)  # stands in for the reducer: this test is about the cache

    monkeypatch.setattr(projection_mod, "fit_projection", slow_fit)
    x = np.random.default_rng(4).normal(size=(30, 8))
    cache = ProjectionCache(lambda key: x)
    start = time.perf_counter()
    assert cache.get("m", "umap") is None  # returns at once; the fit runs in the worker
    assert time.perf_counter() - start < 1.0
    assert cache.status("m", "umap") == "pending"
    assert cache.get("m", "pca") is not None  # PCA is there meanwhile
    cache.start("m", "umap")  # queued once only
    gate.set()
    proj = cache.wait("m", "umap", timeout=10)
    assert cache.status("m", "umap") == "ready" and cache.get("m", "umap") is proj and calls == ["umap"]


def test_cache_reports_a_failed_fit(monkeypatch):
    def broken(latents, method, **params):
        if method == "umap":
            raise RuntimeError("numba exploded")
        return PCAProjection.fit(latents)

    monkeypatch.setattr(projection_mod, "fit_projection", broken)
    cache = ProjectionCache(lambda key: np.ones((5, 3)))
    with pytest.raises(ValueError, match="numba exploded"):
        cache.wait("m", "umap", timeout=10)
    assert cache.status("m", "umap").startswith("failed")
    with pytest.raises(ValueError, match="umap"):
        cache.status("m", "tsne")


# ---- the explorer over tiny random-init models -----------------------------------------------------
@pytest.fixture(scope="module")
def explorer(tiny_service):
    return LatentMapExplorer(tiny_service)


def test_models_are_the_mnist_vaes(explorer):
    assert set(explorer.models()) == {"tiny-sd-mnist", "tiny-chapter", "tiny-2d"}
    for bad in ("tiny-photos", "tiny-classifier", "nope", None):
        with pytest.raises(ValueError, match="unknown model"):
            explorer.check_model(bad)


def test_latents_of_the_held_out_digits(explorer, tiny_service):
    test = load_mnist("test")
    lat = explorer.latents("tiny-chapter")  # padded 28 -> 32 before encoding: 4 x 4 x 4
    assert lat.latents.shape == (500, 4, 4, 4) and np.array_equal(lat.labels, test.labels)
    single = tiny_service.encode("tiny-chapter", pad_digits(test.images[7:8], 32))["z"][0]
    np.testing.assert_allclose(lat.latents[7], single, atol=1e-5)
    assert explorer.latents("tiny-chapter") is lat  # cached
    assert explorer.latents("tiny-sd-mnist").latents.shape == (500, 4, 7, 7)
    assert explorer.is_planar("tiny-2d") and not explorer.is_planar("tiny-sd-mnist")


def test_points_pca(explorer):
    points = explorer.points("tiny-sd-mnist", "pca")
    assert len(points) == 500 and set(points[0]) == {"x", "y", "label", "index"}
    assert [p["index"] for p in points] == list(range(500))
    assert np.bincount([p["label"] for p in points]).tolist() == [50] * 10
    xy = np.array([[p["x"], p["y"]] for p in points])
    assert xy.std(axis=0).min() > 0
    plane = explorer.points("tiny-2d", "umap")  # a 2-D latent is its own map, for either method
    np.testing.assert_allclose([[p["x"], p["y"]] for p in plane], explorer.latents("tiny-2d").latents, atol=1e-6)


def test_pair_path_decodes_in_one_batch(explorer, tiny_service, monkeypatch):
    calls = []
    real = tiny_service.decode
    monkeypatch.setattr(tiny_service, "decode", lambda name, z: calls.append(len(z)) or real(name, z))
    pp = explorer.pair_path("tiny-chapter", 3, 400, "slerp", 33, projection="pca")
    assert calls == [33]
    assert pp.frames.shape == (33, 28, 28) and pp.latents.shape == (33, 4, 4, 4) and pp.xy.shape == (33, 2)
    coords = explorer.projections.get("tiny-chapter", "pca").coords
    assert np.array_equal(pp.xy[0], coords[3]) and np.array_equal(pp.xy[-1], coords[400])
    assert 0 <= pp.frames.min() and pp.frames.max() <= 1


def test_endpoints_are_exactly_the_decodings_of_a_and_b(explorer):
    z = explorer.latents("tiny-sd-mnist").latents
    for alpha, index in ((0.0, 12), (1.0, 345)):
        for method in ("lerp", "slerp"):
            got = explorer.interpolate("tiny-sd-mnist", 12, 345, alpha, method)
            assert np.array_equal(got, explorer.decode("tiny-sd-mnist", z[index][None])[0])
    middle = explorer.interpolate("tiny-sd-mnist", 12, 345, 0.5, "lerp")
    assert not np.array_equal(middle, explorer.interpolate("tiny-sd-mnist", 12, 345, 0.0, "lerp"))


def test_exact_position_lies_on_the_path(explorer):
    pp = explorer.pair_path("tiny-sd-mnist", 5, 6, "lerp", 5, projection="pca")
    _, xy = explorer.exact("tiny-sd-mnist", 5, 6, 0.5, "lerp", "pca")
    np.testing.assert_allclose(xy, pp.xy[2], atol=1e-6)
    _, none = explorer.exact("tiny-sd-mnist", 5, 6, 0.5, "lerp", None)
    assert none is None


@pytest.mark.parametrize("kwargs, message", [
    ({"index_a": 500}, "index_a must be between 0 and 499, got 500"), ({"index_b": -3}, "index_b must be between"),
    ({"index_a": 1.5}, "whole number"), ({"index_a": "1e2"}, "whole number"), ({"alpha": 1.5}, "alpha"),
    ({"alpha": "half"}, "alpha"), ({"method": "cubic"}, "lerp"), ({"model": "tiny-photos"}, "unknown model")])
def test_bad_input_is_a_clear_value_error(explorer, kwargs, message):
    args = {"model": "tiny-sd-mnist", "index_a": 1, "index_b": 2, "alpha": 0.5, "method": "lerp", **kwargs}
    with pytest.raises(ValueError, match=message):
        explorer.interpolate(**args)


def test_plane_grid_and_points(explorer):
    extent = explorer.plane_extent("tiny-2d")
    frames, xs, ys = explorer.plane_grid("tiny-2d", 5, extent)
    assert frames.shape == (25, 28, 28)
    top_left = explorer.decode_point("tiny-2d", xs[0], ys[-1])  # row 0 is the top: largest z2
    np.testing.assert_allclose(frames[0], top_left, atol=1e-6)
    np.testing.assert_allclose(frames[24], explorer.decode_point("tiny-2d", xs[-1], ys[0]), atol=1e-6)
    with pytest.raises(ValueError, match="2-D"):
        explorer.plane_extent("tiny-sd-mnist")
    with pytest.raises(ValueError, match="z1"):
        explorer.decode_point("tiny-2d", float("nan"), 0)


def test_compare_rows(explorer):
    rows = explorer.compare(["tiny-sd-mnist", "tiny-chapter"], 0, 499, "lerp", 9)
    assert [r["model"] for r in rows] == ["tiny-sd-mnist", "tiny-chapter"]
    for r in rows:
        assert r["frames"].shape == (9, 28, 28) and np.isfinite(r["evenness"]) and r["evenness"] >= 1
        assert r["digit_confidence"] is None  # the tiny service has no "mnist-classifier"
        assert np.isfinite(r["blend_psnr"]) or r["blend_psnr"] == float("inf")


def test_path_statistics_decode_all_pairs_in_one_batch(explorer, tiny_service, monkeypatch):
    calls = []
    real = tiny_service.decode
    monkeypatch.setattr(tiny_service, "decode", lambda name, z: calls.append(len(z)) or real(name, z))
    stats = explorer.path_statistics("tiny-sd-mnist", n_pairs=6, seed=3, method="slerp", n=5)
    assert calls == [30] and stats["pairs"] == 6 and stats["evenness"] >= 1
    assert explorer.path_statistics("tiny-sd-mnist", n_pairs=6, seed=3, method="slerp", n=5) is stats  # cached


@pytest.fixture(scope="module")
def views(explorer):
    from explorer.views.latent_map import LatentMapViews

    return LatentMapViews(explorer)


def test_server_functions(views, explorer):
    ok = views.latent_map_exact({"model": "tiny-sd-mnist", "index_a": 1, "index_b": 2, "alpha": 0, "method": "lerp",
                                 "projection": "pca"})
    assert np.array_equal(png_pixels(ok["image"]), to_uint8(explorer.interpolate("tiny-sd-mnist", 1, 2, 0)))
    assert ok["xy"] == pytest.approx(explorer.projections.get("tiny-sd-mnist", "pca").coords[1].tolist())
    for bad in ({"model": "x"}, {"alpha": -1}, {"index_a": 9999}, {"method": None}, "not a dict"):
        payload = bad if not isinstance(bad, dict) else {"model": "tiny-sd-mnist", "index_a": 1, "index_b": 2,
                                                          "alpha": 0.5, "method": "lerp", **bad}
        assert "error" in views.latent_map_exact(payload)
    plane = views.latent_map_plane_exact({"model": "tiny-2d", "z1": 0.5, "z2": -1})
    assert png_pixels(plane["image"]).shape == (28, 28)
    assert "error" in views.latent_map_plane_exact({"model": "tiny-sd-mnist", "z1": 0, "z2": 0})


def test_map_and_player_values(views, explorer):
    import json

    value, player, status, pending = views.render("tiny-chapter", "pca", 10, 20, "slerp", True)
    json.dumps([value, player])  # the browser receives them as JSON
    assert value["projection"] == "pca" and not pending and value["grid"] is None
    assert len(value["points"]["x"]) == 500 and len(value["path"]["x"]) == len(player["frames"]) == 33
    coords = explorer.projections.get("tiny-chapter", "pca").coords
    assert value["path"]["x"][0] == pytest.approx(coords[10, 0], abs=1e-4)
    assert player["key"] == value["key"] and "tiny-chapter" in status
    frames = [png_pixels(uri) for uri in player["frames"]]
    pp = explorer.pair_path("tiny-chapter", 10, 20, "slerp")
    assert all(np.array_equal(f, to_uint8(g)) for f, g in zip(frames, pp.frames))
    planar, _, _, _ = views.render("tiny-2d", "umap", 10, 20, "lerp", True)
    assert planar["projection"] == "latent" and planar["grid"]["x1"] > planar["grid"]["x0"]
    plane = views.plane_value("tiny-2d")
    assert len(plane["frames"]) == plane["n"] ** 2
    with pytest.raises(Refusal, match="digit index B must be between 0 and 499, got 500"):
        views.render("tiny-2d", "pca", 10, 500, "lerp", True)


def test_umap_pending_falls_back_to_pca(tiny_service, monkeypatch):
    from explorer.views.latent_map import LatentMapViews

    gate = threading.Event()

    def gated_fit(latents, method, **params):  # stands in for a slow UMAP fit
        gate.wait(10)
        return PCAProjection.fit(latents)

    monkeypatch.setattr(projection_mod, "fit_projection", lambda latents, method, **params: (
        gated_fit(latents, method) if method == "umap" else PCAProjection.fit(latents)))
    fresh = LatentMapViews(LatentMapExplorer(tiny_service))
    value, status, pending = fresh.map_value("tiny-sd-mnist", "umap", 1, 2, "lerp", False)
    assert value["projection"] == "pca" and pending and "UMAP is being computed" in status
    gate.set()
    fresh.explorer.projections.wait("tiny-sd-mnist", "umap", timeout=10)
    value, status, pending = fresh.map_value("tiny-sd-mnist", "umap", 1, 2, "lerp", False)
    assert value["projection"] == "umap" and not pending and "UMAP" not in status


def test_compare_view(views):
    strip_a, strip_b, tables = views.compare(0, 499, "lerp", models=("tiny-sd-mnist", "tiny-chapter"))
    assert strip_a.dtype == np.uint8 and strip_a.shape == (28 * 3, (9 * 30 - 2) * 3)
    assert "tiny-sd-mnist" in tables["en"] and "n/a" in tables["en"]  # no classifier in the tiny service
    assert "KL weight" in tables["en"] and "KL weight" not in tables["zh"]  # both languages, measured once
    assert tables["zh"].count("|") == tables["en"].count("|")
    missing = views.compare(0, 1, "lerp", models=("tiny-sd-mnist", "not-there"))
    assert missing[0] is None and "not-there" in missing[2]["en"] and "not-there" in missing[2]["zh"]


@pytest.mark.parametrize("index, problem, zh", [
    (None, "number.empty", "A 的数字编号为空"), ("", "number.empty", "A 的数字编号为空"),
    ("1.5", "number.not_whole", "整数"), ("1e2", "number.not_whole", "整数"), (10**400, "number.out_of_range", "之间"),
    ("700", "number.out_of_range", "A 的数字编号必须在 0 到 499 之间，收到 700")])
def test_index_refusals_are_worded_in_the_page_language(views, index, problem, zh):
    with pytest.raises(Refusal) as refused:
        views.parse_pair(index, 3)
    assert refused.value.code == problem
    assert zh in word(refused.value, "zh") and "digit index A" in word(refused.value, "en")
    with pytest.raises(Refusal, match="index_a"):  # the API names its parameter
        check_index(index, 500, API_FIELDS[0])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_refused_index_still_draws_the_chosen_model_and_says_why(views, lang):
    """Issue 14 A2: index A = 700, then another model / PCA / slerp / language: the map is that model's, in that
    projection, without a path; the status and the player name the box and the range in the page's language."""
    for model, projection, method in (("tiny-chapter", "pca", "lerp"), ("tiny-sd-mnist", "pca", "slerp"),
                                      ("tiny-2d", "umap", "lerp")):
        page = views.page(model, projection, "700", "3", method, True, lang)
        assert page.refusal is not None and page.refusal.code == "number.out_of_range"
        assert page.map["model"] == model and page.map["path"] is None and page.map["a"] is None
        assert len(page.map["points"]["x"]) == 500
        reason = word(page.refusal, lang)
        assert reason in page.status and reason in page.player["message"] and "frames" not in page.player
        assert ("0 到 499" if lang == "zh" else "between 0 and 499") in reason
        assert ("A 的数字编号" if lang == "zh" else "digit index A") in reason
    good = views.page("tiny-chapter", "pca", "7", "3", "lerp", True, lang)
    assert good.refusal is None and good.map["a"] == 7 and len(good.player["frames"]) == 33


def test_axis_ranges_fit_the_data(views, explorer):
    """Issue 14 D1: the axes span the dots (and the path), not a square box around them."""
    value, _, _ = views.map_value("tiny-sd-mnist", "pca", 1, 2, "lerp", False)
    coords = explorer.projections.get("tiny-sd-mnist", "pca").coords
    for axis, column in (("x", 0), ("y", 1)):
        lo, hi = value["range"][axis]
        span = coords[:, column].max() - coords[:, column].min()
        assert lo < coords[:, column].min() and hi > coords[:, column].max()
        assert (hi - lo) == pytest.approx(span * 1.1, rel=1e-3)
    from explorer.views.latent_map import axis_range

    assert axis_range(np.array([2.0, 2.0])) == [1.5, 2.5] and axis_range(np.array([np.nan])) == [-1.0, 1.0]


# ---- identical latents land on the same point of the map (issue 14 F3) -----------------------------------
class NoisyProjection:
    """Stands in for UMAP's `transform`, which embeds each new point by a stochastic optimisation: the same
    latent comes back at a slightly different place every time."""

    def __init__(self, fitted: np.ndarray):
        self.fitted = fitted.reshape(len(fitted), -1)
        self.coords = self.fitted[:, :2].astype(np.float64)
        self.rng = np.random.default_rng(0)
        self.calls: list[int] = []

    def transform(self, latents: np.ndarray) -> np.ndarray:
        x = np.asarray(latents).reshape(len(latents), -1)
        self.calls.append(len(x))
        return x[:, :2] + self.rng.normal(scale=0.3, size=(len(x), 2))


def test_place_puts_identical_latents_on_one_point():
    fitted = np.random.default_rng(1).normal(size=(20, 3, 2, 2)).astype(np.float32)
    proj = NoisyProjection(fitted)
    same = np.stack([fitted[4]] * 31)
    assert np.array_equal(place(proj, same, fitted), np.repeat(proj.coords[4:5], 31, axis=0)) and proj.calls == []
    new = np.random.default_rng(2).normal(size=(3, 2, 2)).astype(np.float32)
    mixed = np.stack([new, fitted[0], new, fitted[7], new])
    xy = place(proj, mixed, fitted)
    assert proj.calls == [1]  # one distinct unknown latent, transformed once
    assert np.array_equal(xy[0], xy[2]) and np.array_equal(xy[0], xy[4])
    assert np.array_equal(xy[1], proj.coords[0]) and np.array_equal(xy[3], proj.coords[7])


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_a_path_from_a_digit_to_itself_stays_on_its_dot(explorer, monkeypatch, method):
    noisy = NoisyProjection(explorer.latents("tiny-sd-mnist").latents)
    pp_xy = explorer.path_xy("tiny-sd-mnist", 42, 42, method, 33, noisy)
    assert np.array_equal(pp_xy, np.repeat(noisy.coords[42:43], 33, axis=0)) and noisy.calls == []
    # and a path between two digits: its ends are the digits' own dots
    xy = explorer.path_xy("tiny-sd-mnist", 42, 43, method, 33, noisy)
    assert np.array_equal(xy[0], noisy.coords[42]) and np.array_equal(xy[-1], noisy.coords[43])


def test_umap_places_a_digit_to_itself_path_on_its_dot():
    """The real reducer (umap-learn, small data so the fit is quick): before `place`, UMAP's transform spread 31
    copies of one latent over the map (issue 14 F3); now every point of the path is the digit's own dot."""
    from explorer.interpolation import path
    from explorer.projection import UMAPProjection

    rng = np.random.default_rng(3)
    latents = (rng.normal(size=(120, 16)) + np.repeat(rng.normal(scale=4, size=(4, 16)), 30, axis=0)).astype(
        np.float32)
    proj = UMAPProjection.fit(latents, n_neighbors=8)
    copies = path(latents[5], latents[5], 33, "slerp")
    assert np.array_equal(place(proj, copies, latents), np.repeat(proj.coords[5:6], 33, axis=0))
    spread = proj.transform(copies[1:-1])  # what the map drew before: the copies away from the dot
    assert np.abs(spread - proj.coords[5]).max() > 1e-3


# ---- the public API through the real app (shipped checkpoints) -------------------------------------
MODEL = "sd-vae-mnist-c4"


@pytest.fixture(scope="module")
def shipped_explorer(shipped_service):
    if MODEL not in shipped_service.names():
        pytest.fail(f"checkpoint {MODEL} is missing")
    return LatentMapExplorer(shipped_service)


def test_api_latent_map_pca(app_server):
    _, client = app_server
    pca = client.predict(model=MODEL, method="pca", api_name="/latent_map")
    assert len(pca) == 500 and [p["index"] for p in pca] == list(range(500))
    assert [p["label"] for p in pca] == load_mnist("test").labels.tolist()
    assert np.std([p["x"] for p in pca]) > 0 and np.std([p["y"] for p in pca]) > 0


def test_api_interpolate_endpoints_are_exact(app_server, shipped_explorer, shipped_service):
    _, client = app_server
    a, b = 150, 400
    z = shipped_explorer.latents(MODEL).latents
    for alpha, index in ((0, a), (1, b)):
        path = client.predict(index_a=a, index_b=b, alpha=alpha, method="slerp", model=MODEL,
                              api_name="/interpolate")
        got = png_pixels(open(path, "rb").read())
        assert got.shape == (28, 28)
        assert np.array_equal(got, to_uint8(shipped_explorer.decode(MODEL, z[index][None])[0]))
        # and the same digit encoded on its own decodes to (almost) the same pixels
        alone = shipped_service.encode(MODEL, load_mnist("test").images[index][None, None])["z"]
        assert np.abs(got.astype(int) - to_uint8(shipped_explorer.decode(MODEL, alone)[0])).max() <= 1
    middle = png_pixels(open(client.predict(index_a=a, index_b=b, alpha=0.5, method="lerp", model=MODEL,
                                            api_name="/interpolate"), "rb").read())
    assert np.array_equal(middle, to_uint8(shipped_explorer.interpolate(MODEL, a, b, 0.5, "lerp")))


@pytest.mark.parametrize("kwargs, message", [
    ({"index_a": 500}, "index_a must be between 0 and 499"), ({"index_b": -1}, "index_b must be between"),
    ({"index_a": "1.5"}, "index_a must be a whole number"), ({"alpha": 1.01}, "alpha"),
    ({"alpha": -0.5}, "alpha"), ({"method": "cubic"}, "lerp"), ({"model": "no-such-model"}, "unknown model")])
def test_api_interpolate_bad_input(app_server, kwargs, message):
    from gradio_client.exceptions import AppError

    _, client = app_server
    args = {"index_a": 0, "index_b": 1, "alpha": 0.5, "method": "lerp", "model": MODEL, **kwargs}
    with pytest.raises(AppError, match=message):
        client.predict(**args, api_name="/interpolate")
    assert client.predict(api_name="/ping") == "ok"  # still serving


@pytest.mark.parametrize("kwargs, message", [({"model": "nope"}, "unknown model"), ({"method": "tsne"}, "umap")])
def test_api_latent_map_bad_input(app_server, kwargs, message):
    from gradio_client.exceptions import AppError

    _, client = app_server
    with pytest.raises(AppError, match=message):
        client.predict(**{"model": MODEL, "method": "pca", **kwargs}, api_name="/latent_map")


def test_api_latent_map_umap(app_server):
    """The first UMAP request for a model waits for its background fit (never started at app start-up)."""
    _, client = app_server
    pca = client.predict(model=MODEL, method="pca", api_name="/latent_map")
    umap = client.predict(model=MODEL, method="umap", api_name="/latent_map")  # waits for the fit if needed
    assert len(umap) == 500 and [p["label"] for p in umap] == [p["label"] for p in pca]
    xy = np.array([[p["x"], p["y"]] for p in umap])
    assert np.all(np.isfinite(xy)) and not np.allclose(xy, [[p["x"], p["y"]] for p in pca])
    # UMAP keeps neighbours together: most digits' nearest neighbour on the map has the same label
    labels = np.array([p["label"] for p in umap])
    d = ((xy[:, None] - xy[None]) ** 2).sum(-1) + np.eye(len(xy)) * 1e9
    assert (labels[d.argmin(1)] == labels).mean() > 0.7

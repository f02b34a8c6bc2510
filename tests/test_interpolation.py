"""lerp / slerp / path: exact endpoints, the spherical property, and the (anti)parallel edge cases."""
from __future__ import annotations

import numpy as np
import pytest

from explorer.interpolation import (alphas, angle, check_alpha, interpolate, lerp, orthogonal_direction, path,
                                    slerp)


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, 7, 7)).astype(np.float32), rng.normal(size=(4, 7, 7)).astype(np.float32)


@pytest.mark.parametrize("fn", [lerp, slerp])
def test_endpoints_are_exact_copies(fn, pair):
    a, b = pair
    za, zb = fn(a, b, 0.0), fn(a, b, 1.0)
    assert np.array_equal(za, a) and np.array_equal(zb, b)
    assert za.dtype == a.dtype and za.shape == a.shape
    za[0, 0, 0] += 1  # a copy, never a view of the caller's array
    assert not np.array_equal(za, a)


def test_lerp_midpoint(pair):
    a, b = pair
    np.testing.assert_allclose(lerp(a, b, 0.5), (a + b) / 2, rtol=1e-6)


def test_slerp_of_unit_vectors_stays_on_the_sphere_at_constant_speed():
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    ts = np.linspace(0, 1, 11)
    points = np.stack([slerp(a, b, t) for t in ts])
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose([angle(a, p) for p in points], ts * np.pi / 2, atol=1e-9)
    # lerp cuts the corner instead: its midpoint is inside the sphere
    assert np.linalg.norm(lerp(a, b, 0.5)) == pytest.approx(np.sqrt(0.5))


def test_slerp_differs_from_lerp_for_general_vectors(pair):
    a, b = pair
    assert np.abs(slerp(a, b, 0.5) - lerp(a, b, 0.5)).max() > 1e-3


def test_slerp_parallel_vectors_fall_back_to_lerp():
    a = np.array([1.0, 2.0, 3.0])
    b = 3.0 * a
    out = slerp(a, b, 0.25)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, lerp(a, b, 0.25))


def test_slerp_antiparallel_rotates_through_an_orthogonal_direction():
    a = np.array([1.0, 0.5, -2.0, 0.0])
    b = -2.0 * a
    mid = slerp(a, b, 0.5)
    assert np.all(np.isfinite(mid))
    assert abs(mid @ a) < 1e-9  # halfway round the half-circle: orthogonal to both
    assert np.linalg.norm(mid) == pytest.approx(1.5 * np.linalg.norm(a))  # norm interpolated linearly
    np.testing.assert_allclose(slerp(a, b, 1 - 1e-12), b, atol=1e-9)  # continuous into the endpoint
    assert np.array_equal(slerp(a, b, 0.5), mid)  # deterministic


def test_orthogonal_direction_is_unit_and_orthogonal():
    a = np.array([[3.0, 0.0], [4.0, 1.0]])
    u = orthogonal_direction(a)
    assert np.linalg.norm(u) == pytest.approx(1.0)
    assert abs(u @ a.ravel()) < 1e-12


def test_slerp_with_a_zero_vector_is_finite():
    a, b = np.zeros(5), np.arange(5.0)
    np.testing.assert_allclose(slerp(a, b, 0.3), 0.3 * b)


def test_path_shape_and_endpoints(pair):
    a, b = pair
    for method in ("lerp", "slerp"):
        p = path(a, b, 9, method)
        assert p.shape == (9, 4, 7, 7)
        assert np.array_equal(p[0], a) and np.array_equal(p[-1], b)
    np.testing.assert_allclose(path(a, b, 5, "lerp")[2], lerp(a, b, 0.5), rtol=1e-6)
    np.testing.assert_allclose(alphas(5), [0, 0.25, 0.5, 0.75, 1])


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan"), float("inf"), "x", None, True])
def test_bad_alpha_is_rejected(bad):
    with pytest.raises(ValueError, match="alpha"):
        check_alpha(bad)


def test_bad_method_and_shapes_are_rejected(pair):
    a, b = pair
    with pytest.raises(ValueError, match="lerp"):
        interpolate(a, b, 0.5, "cubic")
    with pytest.raises(ValueError, match="same shape"):
        lerp(a, b[:2], 0.5)
    with pytest.raises(ValueError, match="at least 2"):
        path(a, b, 1)


def test_method_names_ignore_case_and_spaces_like_the_sampler_names():
    from explorer.interpolation import check_method

    assert check_method(" SLERP ") == "slerp" and check_method("Lerp") == "lerp"
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_array_equal(interpolate(a, b, 0.5, "SLERP"), interpolate(a, b, 0.5, "slerp"))
    with pytest.raises(ValueError, match="use 'lerp' or 'slerp'"):
        check_method("cubic")

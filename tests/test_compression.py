"""explorer.compression: the arithmetic and its error messages."""
import math

import pytest

from explorer.compression import PUBLISHED_VAES, compression, resolution_table


def test_chapter_example_is_48x():
    r = compression(512, 512, 3, 8, 4)
    assert (r.pixel_dims, r.latent_shape, r.latent_dims) == (786_432, [4, 64, 64], 16_384)
    assert r.ratio == 48.0 and r.bytes_fp32 == 65_536 and r.bytes_fp16 == 32_768


@pytest.mark.parametrize("h,w,c,f,lc,ratio", [(1024, 1024, 3, 8, 16, 12.0), (256, 256, 3, 4, 3, 16.0),
                                               (28, 28, 1, 4, 4, 4.0), (512, 768, 3, 16, 16, 48.0)])
def test_ratio_is_f_squared_times_channels_over_latent_channels(h, w, c, f, lc, ratio):
    assert compression(h, w, c, f, lc).ratio == pytest.approx(ratio) == f * f * c / lc


@pytest.mark.parametrize("args,message", [
    ((500, 512, 3, 8, 4), "not divisible by f=8; try 496 or 504"),
    ((0, 512, 3, 8, 4), "between 1"), ((-8, 512, 3, 8, 4), "between 1"),
    ((512, 512, 3, 0, 4), "between 1"), ((512, 512, 3, 8, 0), "between 1"),
    ((float("nan"), 512, 3, 8, 4), "whole number"), ((512.5, 512, 3, 8, 4), "whole number"),
    (("abc", 512, 3, 8, 4), "whole number"), ((None, 512, 3, 8, 4), "whole number"),
    ((4, 4, 3, 8, 4), "try 8"), ((10**9, 8, 3, 8, 4), "between 1"),
])
def test_bad_input_gets_a_clear_message(args, message):
    with pytest.raises(ValueError, match=message):
        compression(*args)


def test_resolution_table_and_presets():
    rows = resolution_table(8, 4)
    assert [r["resolution"] for r in rows][0] == "256x256" and all(r["ratio"] == 48.0 for r in rows)
    assert [r["resolution"] for r in resolution_table(7, 4)] == []  # nothing divisible by 7 in the list
    names = {p.name for p in PUBLISHED_VAES}
    assert any("SDXL" in n for n in names) and any("FLUX" in n for n in names)
    assert {(p.factor, p.latent_channels) for p in PUBLISHED_VAES} >= {(4, 3), (8, 4), (16, 16), (16, 8), (32, 64), (32, 16), (8, 16)}
    assert all(p.psnr is None or 15 < p.psnr < 35 for p in PUBLISHED_VAES) and not math.isnan(rows[0]["latent_dims"])

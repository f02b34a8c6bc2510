"""The overview and maths panels as pure data (explorer/views/overview.py): every part names a string of the
table in both languages, numbers come from the running models, and the one-line summary and the channels
sentence say what they must."""
import pytest

from explorer.views import overview


def test_overview_quotes_the_models_numbers_in_both_languages(shipped_service):
    left, right = overview.overview_columns(shipped_service)
    keys = [key for key, _ in left + right]
    assert keys == ["learn.why", "learn.advantages", "learn.savings", "learn.savings_measured", "learn.channels",
                    "learn.vae", "learn.vae_measured"]
    english, chinese = overview.word_parts(left + right, "en"), overview.word_parts(left + right, "zh")
    psnr = shipped_service.metrics("sd-vae-mnist-c4")["psnr"]
    assert f"**{psnr:.1f} dB**" in english[-1] and f"**{psnr:.1f} dB**" in chinese[-1]
    assert "786,432 pixel values become 16,384 latent values, **48x fewer**" in english[0]
    assert english[4].startswith("Since then the field has moved from 4 latent channels")
    for needle in ("SD3 and FLUX use 16", "FLUX.2 uses 32"):
        assert needle in english[4]
    assert "SD3 和 FLUX 用 16 个，FLUX.2 用 32 个" in chinese[4]
    assert all(e != c for e, c in zip(english, chinese))


def test_summary_is_one_line_with_the_headline_ratio(shipped_service):
    en, zh = (overview.word_parts([overview.summary(shipped_service)], lang)[0] for lang in ("en", "zh"))
    assert en == ("Overview: why Stable Diffusion works in a latent space (786,432 pixel values -> 16,384 latents, "
                  "48x fewer per step). Open for the chapter's four questions.")
    assert "\n" not in en and "\n" not in zh and "48" in zh


def test_maths_parts_by_topic(tiny_service, shipped_service):
    assert [k for k, _ in overview.maths_parts("vae", tiny_service)] == ["learn.vae", "learn.no_model"]
    assert [k for k, _ in overview.maths_parts("diffusion", tiny_service)] == ["learn.diffusion"]
    (_, schedule), = [p for p in overview.maths_parts("diffusion", shipped_service) if p[0] == "learn.schedule_measured"]
    assert schedule["steps"] == 1000 and schedule["model"] == "ldm-mnist" and 0 < schedule["abar_end"] < 1e-3
    with pytest.raises(ValueError, match="unknown maths topic 'optics'; topics: vae, diffusion, compression"):
        overview.maths_parts("optics", tiny_service)


def test_views_import_no_gradio():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(overview.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "gradio" or "ui" in name.split(".") for name in imported)

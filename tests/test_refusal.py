"""The latent map refuses with the one message family (explorer/messages.py): a Refusal with a code and values,
English for the API, worded in Chinese from explorer/locale_zh.py for the page, and it survives pickling (a
ZeroGPU worker sends errors back that way) with its code and values. (Other areas test their own refusals.)"""
from __future__ import annotations

import pickle

import pytest

from explorer.interpolation import check_alpha, check_method as check_interp_method
from explorer.latent_map import API_FIELDS, check_index, random_pair
from explorer.messages import Refusal, word
from explorer.projection import check_method as check_projection_method


def refused(fn, *args) -> Refusal:
    with pytest.raises(Refusal) as info:
        fn(*args)
    return info.value


@pytest.mark.parametrize("error, code, english, chinese", [
    (lambda: refused(check_index, 700, 500, API_FIELDS[0]), "number.out_of_range",
     "index_a must be between 0 and 499, got 700", "index_a（A 的编号）必须在 0 到 499 之间，收到 700"),
    (lambda: refused(check_index, "1.5", 500, API_FIELDS[1]), "number.not_whole",
     "index_b must be a whole number from 0 to 499, got '1.5'", "整数"),
    (lambda: refused(check_alpha, 1.5), "number.out_of_range", "alpha must be between 0 and 1, got 1.5", "之间"),
    (lambda: refused(check_interp_method, "cubic"), "map.interp_method",
     "unknown interpolation method 'cubic'; use 'lerp' or 'slerp'", "未知的插值方式"),
    (lambda: refused(check_projection_method, "tsne"), "map.projection_method",
     "unknown projection method 'tsne'; use 'umap' or 'pca'", "未知的投影方法"),
    (lambda: refused(random_pair, [0, 1], 0, "sideways"), "map.relation", "relation must be", "relation 必须是"),
])
def test_map_refusals_have_a_code_values_english_and_chinese(error, code, english, chinese):
    exc = error()
    assert isinstance(exc, ValueError) and exc.code == code and english in str(exc) and chinese in word(exc, "zh")
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is Refusal and (again.code, again.values, str(again)) == (exc.code, exc.values, str(exc))

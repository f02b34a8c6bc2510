"""Refused requests and indices share one shape (explorer/refusal.py): English text for the API, a code and
values for the UI, and they survive pickling (a ZeroGPU worker sends errors back that way) with their type, code
and values. (explorer.compression's CompressionError also names a quantity and keeps its own class, tested in
tests/test_compression.py.)"""
from __future__ import annotations

import pickle

import pytest

from explorer.generation import RequestError, validate_request
from explorer.latent_map import IndexRefused, check_index
from explorer.refusal import Refusal


def refused(fn, *args) -> Refusal:
    with pytest.raises(Refusal) as info:
        fn(*args)
    return info.value


@pytest.mark.parametrize("error, kind, code, english", [
    (lambda: refused(validate_request, 3, -1, 50, "ddim", 3.0), RequestError, "seed_range", "seed"),
    (lambda: refused(check_index, 700, 500, "index_a"), IndexRefused, "out_of_range", "index_a 700 is out of range"),
])
def test_each_module_refuses_with_a_code_values_and_english(error, kind, code, english):
    exc = error()
    assert isinstance(exc, kind) and isinstance(exc, ValueError) and exc.code == code and english in str(exc)
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is kind and (again.code, again.values, str(again)) == (exc.code, exc.values, str(exc))
